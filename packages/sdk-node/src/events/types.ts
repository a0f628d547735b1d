/** Events as `POST /sdk/v1/events` takes them: the protocol's types. */
export { EventType, type WireEvent } from '@switchyard/core/protocol';
