/** How the event streams frame their events, for the OpenAPI document. */
const FRAMING = [
  'Server-Sent Events (WHATWG HTML §9.2), UTF-8. The stream opens with `retry: 2000`. Each event is',
  '`id: <event id>`, `event: <event type>` and one `data:` line holding the event as JSON, then a',
  'blank line; ids grow, and reconnecting with `Last-Event-ID: <id>` (or `?after=<id>`) resumes',
  'after that event. Lines starting with `:` are keep-alive comments. A run\'s stream ends with',
  '`event: end` (`data: {}`) once the run has ended. A client that does not keep up gets',
  '`event: overflow` naming the last event id sent, and the server closes the stream; resume',
  'from that id.',
].join(' ');

const overflowData = {
  type: 'object',
  properties: { lastEventId: { type: 'integer', minimum: 0 }, reason: { type: 'string' } },
  required: ['lastEventId', 'reason'],
  additionalProperties: false,
};

const EXAMPLE = 'retry: 2000\n\nid: 7\nevent: run.started\ndata: {"id":7,"runId":"8acf766b-3bf8-4f6a-a2af-5400c30772a5","type":"run.started","step":null,"attemptId":null,"ts":"2024-01-01T00:00:00.000Z","payload":{}}\n\n: keep-alive\n\n';

/**
 * The `text/event-stream` content of a stream operation: the body is text (its framing in
 * `description`), and `x-sse` gives the JSON schema of each event type's `data` line, since
 * OpenAPI 3.1 has no keyword for the items of a stream.
 */
export function sseContent(eventData: object): Record<string, object> {
  return {
    'text/event-stream': {
      schema: { type: 'string', description: FRAMING },
      example: EXAMPLE,
      'x-sse': {
        events: {
          '*': { description: 'an event of the event table; `event:` is its `type`, `id:` its `id`', data: eventData },
          end: { description: 'the run has ended; the server closes the stream', data: { type: 'object', additionalProperties: false } },
          overflow: { description: 'the client fell behind; the server closes the stream', data: overflowData },
        },
      },
    },
  };
}

/** The stream caps' answers: too many streams for this token (429) or for the server (503). */
export function sseRefusals(problem: object): Record<string, object> {
  const retryAfter = { 'Retry-After': { description: 'seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } } };
  return {
    429: { description: 'This token has as many event streams open as it may', headers: retryAfter, content: problem },
    503: { description: 'The server has as many event streams open as it may', headers: retryAfter, content: problem },
  };
}
