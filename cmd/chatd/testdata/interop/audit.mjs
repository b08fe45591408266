// node audit.mjs http://127.0.0.1:PORT runs every audit of graphql-http's
// GraphQL-over-HTTP suite against /graphql for TestGraphQLOverHTTPAudit. It
// prints one event per audit, {"event":"audit","id","name","status",
// "reason","response"}, where status is ok, error (a failed MUST), warn (a
// failed SHOULD), notice (a failed MAY) or fatal (the audit itself threw),
// then {"event":"done","count":N}. The Go test judges the results.
import { serverAudits } from 'graphql-http';
import { baseURL, emit, fail } from './lines.mjs';

const auditTimeoutMs = 10_000;
setTimeout(() => fail('the audits took longer than 120 s'), 120_000);

/** Resolves like promise, or rejects after ms. */
function within(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Status, content type and, when the audit left it unread, the start of the
 * body of a failed audit's response. */
async function describeResponse(res) {
  if (!res) return '';
  let text = `${res.status} ${res.headers.get('content-type') ?? '(no content type)'}`;
  if (!res.bodyUsed) text += ' ' + (await res.text().catch((err) => `(unreadable body: ${err.message})`)).slice(0, 300);
  return text;
}

const audits = serverAudits({ url: baseURL() + '/graphql' });
for (const { id, name, fn } of audits) {
  // Audits run one at a time, so that their requests never interleave.
  let result;
  try {
    result = await within(fn(), auditTimeoutMs);
  } catch (err) {
    emit('audit', { id, name, status: 'fatal', reason: String(err?.stack ?? err) });
    continue;
  }
  const event = { id, name, status: result.status };
  if (result.status !== 'ok') {
    event.reason = result.reason;
    event.response = await describeResponse(result.response);
  }
  emit('audit', event);
}
emit('done', { count: audits.length });
process.exit(0);
