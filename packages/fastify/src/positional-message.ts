import type { EventMessage } from "@se/core";

/** Turns the seed API's positional arguments into a message; `null`/`undefined` mean "absent". */
export function positionalMessage(
  data: unknown,
  event: unknown,
  id: unknown,
  retry: unknown,
): EventMessage {
  const message: EventMessage = { data };
  if (event !== undefined && event !== null) message.event = event as string;
  if (id !== undefined && id !== null) message.id = id as string | number;
  if (retry !== undefined && retry !== null) message.retry = retry as number;
  return message;
}
