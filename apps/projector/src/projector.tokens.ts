/** Injection token of the projector's kafkajs client. */
export const KAFKA = Symbol('KAFKA');
/** Injection token of the projector's KafkaBatchTransport (the Nest microservice strategy). */
export const BATCH_TRANSPORT = Symbol('BATCH_TRANSPORT');
