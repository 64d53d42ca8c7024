export * from '../../apps/tools/src/local-services';
