// A fediverse follower built with Fedify, an ActivityPub implementation independent of
// seedfeed, driven line by line by tests/fediverse.rs.
//
// It is the actor `alice` (a Person whose RSA key pair is generated at start), served by
// Fedify over plain HTTP on a loopback port, with its own inbox there. Fedify verifies
// every activity that reaches that inbox (HTTP signature, key owner, JSON-LD) before a
// listener below sees it; an activity it rejects never reaches them.
//
// Commands, one a line on stdin (each step answers with one JSON line on stdout, with
// `"step"` and `"ok"`):
//   lookup USER@HOST:PORT  WebFinger (Fedify's lookupWebFinger, over https, as Fedify
//                          insists for acct: handles), then the actor (lookupObject):
//                          steps "webfinger" and "actor".
//   follow                 a Follow signed with alice's key to the actor's inbox: step
//                          "follow", with the Follow's id.
//   wait TYPE [MS]         the next activity of TYPE (Accept, Create, Update, Delete…)
//                          that alice received, which may have come before the command:
//                          step TYPE in lower case, with the activity and its object;
//                          MS waits less than the usual bound.
//   object URL             Fedify's lookupObject of URL (an entry, a collection): step
//                          "object", with its type, id and main fields.
//   undo                   Undo(Follow) to the actor's inbox: step "undo".
//   quit                   ends the process.
// Every wait gives up after FEDIVERSE_WAIT_MS (10 s unless set) with `"ok": false`.
// alice listens on 127.0.0.1, port FEDIVERSE_PORT (any free one unless set).
// Besides the steps, each request that reaches alice is reported as it is answered
// (`"event": "inbox"` for the inbox, `"event": "served"` for the rest), with its
// signature headers and Fedify's answer, so that a failure shows what was sent and what
// Fedify said; Fedify's own log goes to stderr.
//
// Run: node follower.mjs (after `npm ci` in this folder); NODE_EXTRA_CA_CERTS names the
// CA that signed the https proxy in front of the server under test.

import { AsyncLocalStorage } from "node:async_hooks";
import http from "node:http";
import readline from "node:readline";
import { randomUUID } from "node:crypto";

import { configure, defaultTextFormatter } from "@logtape/logtape";
import {
  Accept,
  Activity,
  Create,
  Delete,
  Endpoints,
  Follow,
  MemoryKvStore,
  Person,
  Undo,
  Update,
  createFederation,
  generateCryptoKeyPair,
  isActor,
  lookupObject,
  lookupWebFinger,
} from "@fedify/fedify";

const WAIT_MS = Number(process.env.FEDIVERSE_WAIT_MS ?? 10_000);
const USER = "alice";
const ACTIVITY_TYPES = [
  'application/activity+json',
  'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
];

await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: { stderr: (record) => process.stderr.write(defaultTextFormatter(record)) },
  loggers: [
    { category: ["fedify"], lowestLevel: process.env.FEDIVERSE_LOG ?? "debug", sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ],
});

function emit(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function errorText(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

// What alice's inbox has received and Fedify has verified, oldest first; each is taken
// once by a `wait` (or the follow's wait for its Accept).
const received = [];
const waiters = new Set();

function deliver(entry) {
  received.push(entry);
  for (const wake of waiters) wake();
}

// The first entry received that `matches`, taken from the list; null after `patience` ms.
async function take(matches, patience) {
  const deadline = Date.now() + patience;
  for (;;) {
    const index = received.findIndex(matches);
    if (index >= 0) return received.splice(index, 1)[0];
    const left = deadline - Date.now();
    if (left <= 0) return null;
    await new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, left);
      waiters.add(wake);
    });
  }
}

const keyPair = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");

const federation = createFederation({
  kv: new MemoryKvStore(),
  // Everything here is on loopback, which Fedify refuses unless told.
  allowPrivateAddress: true,
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== USER) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Alice (Fedify)",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((key) => key.multikey),
    });
  })
  .mapHandle((_ctx, username) => (username === USER ? USER : null))
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === USER ? [keyPair] : []));

// What a listener keeps of a verified activity: enough for the test to check ids, types
// and dates, without fetching anything more.
async function described(ctx, activity) {
  let object = null;
  try {
    object = await activity.getObject({ documentLoader: ctx.documentLoader });
  } catch (error) {
    object = { error: errorText(error) };
  }
  const json = await activity.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
  return {
    type: activity.constructor.name,
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    objectId: activity.objectId?.href ?? null,
    object: object == null || object.error ? object : {
      type: object.constructor.name,
      id: object.id?.href ?? null,
      url: object.url?.href ?? null,
      published: object.published?.toString() ?? null,
      updated: object.updated?.toString() ?? null,
      published_ms: object.published?.epochMilliseconds ?? null,
      updated_ms: object.updated?.epochMilliseconds ?? null,
      name: object.name?.toString() ?? null,
      content: object.content?.toString().slice(0, 300) ?? null,
    },
    json,
  };
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Activity, async (ctx, activity) => {
    deliver(await described(ctx, activity));
  })
  .onError((_ctx, error) => {
    emit({ event: "inbox-error", error: errorText(error) });
  });

// Fedify's fetch handler behind node:http. The origin is the one the request came to:
// seedfeed reaches alice directly over http; through a TLS proxy (X-Forwarded-Proto),
// alice's ids are https.
async function handle(req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const proto = req.headers["x-forwarded-proto"] ?? "http";
  const url = new URL(req.url, `${proto}://${req.headers.host}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const one of [value].flat()) headers.append(name, one);
  }
  const bodied = req.method !== "GET" && req.method !== "HEAD";
  const request = new Request(url, { method: req.method, headers, body: bodied ? body : undefined });
  const response = await federation.fetch(request, { contextData: undefined });
  const answer = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(answer);
  const seen = (name) => headers.get(name) ?? undefined;
  emit({
    event: url.pathname.endsWith("/inbox") ? "inbox" : "served",
    method: req.method,
    path: url.pathname + url.search,
    status: response.status,
    answer: answer.toString("utf8").slice(0, 500),
    headers: Object.fromEntries(
      ["accept", "host", "date", "content-type", "digest", "content-digest", "signature",
        "signature-input", "user-agent"].map((name) => [name, seen(name)]),
    ),
    body: bodied ? body.toString("utf8").slice(0, 4000) : undefined,
  });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    emit({ event: "handler-error", path: req.url, error: errorText(error) });
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
await new Promise((resolve) => server.listen(Number(process.env.FEDIVERSE_PORT ?? 0), "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const ctx = federation.createContext(new URL(origin), undefined);
const loaders = { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader };
emit({ step: "listening", ok: true, port: server.address().port, actor: ctx.getActorUri(USER).href });

// The actor looked up, and alice's Follow of it.
let actor = null;
let follow = null;

async function lookup(handleText) {
  const handle = handleText.replace(/^@/, "");
  const jrd = await lookupWebFinger(`acct:${handle}`, { allowPrivateAddress: true });
  const self = jrd?.links?.find((link) => link.rel === "self" && ACTIVITY_TYPES.includes(link.type));
  emit({
    step: "webfinger",
    ok: self?.href != null && jrd.subject === `acct:${handle}`,
    subject: jrd?.subject ?? null,
    self: self?.href ?? null,
    jrd: jrd ?? null,
    error: jrd == null ? "no resource descriptor (Fedify's log on stderr says why)" : undefined,
  });
  if (self?.href == null) return;
  const found = await lookupObject(`@${handle}`, { ...loaders, allowPrivateAddress: true });
  const problems = [];
  if (found == null) problems.push("lookupObject found nothing");
  else if (!isActor(found)) problems.push(`not an actor: ${found.constructor.name}`);
  let key = null;
  if (isActor(found)) {
    actor = found;
    if (found.id?.href !== self.href) problems.push(`id ${found.id?.href} is not WebFinger's ${self.href}`);
    if (found.preferredUsername?.toString() !== handle.split("@")[0]) problems.push("preferredUsername");
    if (found.inboxId == null) problems.push("no inbox");
    key = await found.getPublicKey(loaders);
    if (key?.publicKey == null) problems.push("no usable public key");
    else if (key.ownerId?.href !== found.id?.href) problems.push(`key owner ${key.ownerId?.href}`);
  }
  emit({
    step: "actor",
    ok: problems.length === 0,
    problems,
    type: found?.constructor.name ?? null,
    id: found?.id?.href ?? null,
    preferredUsername: found?.preferredUsername?.toString() ?? null,
    inbox: actor?.inboxId?.href ?? null,
    sharedInbox: actor?.endpoints?.sharedInbox?.href ?? null,
    keyId: key?.id?.href ?? null,
    keyAlgorithm: key?.publicKey?.algorithm?.name ?? null,
  });
}

async function sendFollow() {
  if (actor == null) return emit({ step: "follow", ok: false, error: "no actor looked up" });
  follow = new Follow({
    id: new URL(`${origin}/follows/${randomUUID()}`),
    actor: ctx.getActorUri(USER),
    object: actor.id,
  });
  try {
    await ctx.sendActivity({ identifier: USER }, actor, follow);
    emit({ step: "follow", ok: true, id: follow.id.href, inbox: actor.inboxId.href });
  } catch (error) {
    emit({ step: "follow", ok: false, id: follow.id.href, error: errorText(error) });
  }
}

async function wait(type, ms) {
  const patience = Math.min(Number(ms ?? WAIT_MS) || WAIT_MS, WAIT_MS);
  const started = Date.now();
  const got = await take((one) => one.type === type, patience);
  emit({
    step: type.toLowerCase(),
    ok: got != null,
    waited_ms: Date.now() - started,
    activity: got,
    error: got == null ? `no ${type} within ${patience} ms` : undefined,
    unclaimed: got == null ? received.map((one) => `${one.type} ${one.id}`) : undefined,
  });
}

async function fetchObject(url) {
  const found = await lookupObject(url, { ...loaders, allowPrivateAddress: true });
  emit({
    step: "object",
    ok: found != null,
    type: found?.constructor.name ?? null,
    id: found?.id?.href ?? null,
    attributedTo: found?.attributionId?.href ?? null,
    url: found?.url?.href ?? null,
    published_ms: found?.published?.epochMilliseconds ?? null,
    content: found?.content?.toString().slice(0, 300) ?? null,
    totalItems: found?.totalItems ?? null,
    error: found == null ? `lookupObject found nothing at ${url} (Fedify's log on stderr says why)` : undefined,
  });
}

async function unfollow() {
  if (follow == null) return emit({ step: "undo", ok: false, error: "no Follow sent" });
  const undo = new Undo({
    id: new URL(`${follow.id.href}/undo`),
    actor: ctx.getActorUri(USER),
    object: follow,
  });
  try {
    await ctx.sendActivity({ identifier: USER }, actor, undo);
    emit({ step: "undo", ok: true, id: undo.id.href });
  } catch (error) {
    emit({ step: "undo", ok: false, id: undo.id.href, error: errorText(error) });
  }
}

async function run(line) {
  const [command, argument, more] = line.trim().split(/\s+/, 3);
  switch (command) {
    case "lookup": return await lookup(argument ?? "");
    case "follow": return await sendFollow();
    case "wait": return await wait(argument ?? "", more);
    case "object": return await fetchObject(argument ?? "");
    case "undo": return await unfollow();
    case "quit": process.exit(0);
    case "": return;
    default: emit({ step: command, ok: false, error: `unknown command ${JSON.stringify(line)}` });
  }
}

// One command at a time, in order; a command that throws is a failed step, not an exit.
let queue = Promise.resolve();
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  queue = queue.then(() => run(line)).catch((error) => {
    emit({ step: line.trim().split(/\s+/)[0], ok: false, error: errorText(error) });
  });
}).on("close", () => queue.then(() => process.exit(0)));
