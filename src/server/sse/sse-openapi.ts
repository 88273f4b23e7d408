/** How the event streams frame their events, for the OpenAPI document. */
const FRAMING = [
  'Server-Sent Events (WHATWG HTML §9.2), UTF-8. The stream opens with `retry: 2000`. Each event is',
  '`id: <event id>`, `event: <event type>` and one `data:` line holding the event as JSON, then a',
  'blank line; ids grow, and reconnecting with `Last-Event-ID: <id>` (or `?after=<id>`) resumes',
  'after that event. Without either, `GET /events` starts live (events from now on) and a run\'s',
  'stream at the run\'s first event; `?from=<id>` starts at that event instead (`?from=0`: the whole',
  'history). Lines starting with `:` are keep-alive comments. A run\'s stream ends with',
  '`event: end` (`data: {}`) once the run has ended. A client that does not keep up gets',
  '`event: overflow` naming the last event id sent, and the server closes the stream; resume',
  'from that id. Any stream is also closed after the server\'s maximum stream time (`sse.maxStreamMs`),',
  'without an event: reconnect the same way. The `schema` describes one event as parsed.',
].join(' ');

const overflowData = {
  type: 'object',
  properties: { lastEventId: { type: 'integer', minimum: 0 }, reason: { type: 'string' } },
  required: ['lastEventId', 'reason'],
  additionalProperties: false,
};

/** One `data:` line holding JSON of this schema. */
const jsonData = (schema: object) => ({ type: 'string', contentMediaType: 'application/json', contentSchema: schema });
const eventId = { type: 'string', pattern: '^[0-9]+$' };

/**
 * The `text/event-stream` content of a stream operation. Before OpenAPI 3.2's `itemSchema`,
 * the `schema` of an event stream describes one event, as a parser of the stream sees it
 * (the WHATWG fields `event`, `data`, `id`, `retry`): an event of the table, the end of a
 * run's stream, or an overflow.
 */
export function sseContent(eventData: object): Record<string, object> {
  return {
    'text/event-stream': {
      schema: {
        description: FRAMING,
        oneOf: [
          {
            title: 'event',
            type: 'object',
            properties: { event: { type: 'string', not: { enum: ['end', 'overflow'] } }, data: jsonData(eventData), id: eventId, retry: { type: 'integer' } },
            required: ['event', 'data', 'id'],
          },
          {
            title: 'end',
            type: 'object',
            properties: { event: { const: 'end' }, data: { const: '{}' }, id: eventId, retry: { type: 'integer' } },
            required: ['event', 'data'],
          },
          {
            title: 'overflow',
            type: 'object',
            properties: { event: { const: 'overflow' }, data: jsonData(overflowData), id: eventId, retry: { type: 'integer' } },
            required: ['event', 'data'],
          },
        ],
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
