/** Injection token of the projector's kafkajs client. */
export const KAFKA = Symbol('KAFKA');
