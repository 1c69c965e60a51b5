// A hash-exchange 4.0.1 peer for the interoperability tests, after the package README's example.
//
//   node hx4_peer.js (--stdio | --listen PORT | --connect HOST:PORT) [--id ID] [--since N]
//                    [--seen] [--close] [--timeout SECONDS] MESSAGE...
//
// It provides the SHA-1 hex of each MESSAGE, requests everything available and prints each
// body on stderr between "# BEGIN <hash>" and "# END <hash>", plus "# ID <id>", "# SINCE <n>",
// "# SEEN <n>", "# CLOSE" and, for --listen, "# LISTENING 127.0.0.1:<port>". The options mean
// what they mean for `natakanu-peer hx`. It exits 0 on the exchange's close event, 1 when the
// link ends first, 3 on timeout. Nothing here is meant to be clever: it is the seed as a
// careful user would drive it.
'use strict';

var net = require('net');
var exchange = require('hash-exchange');
var through = require('through2');
var concat = require('concat-stream');
var shasum = require('shasum');

function parse(argv) {
  var opts = { messages: [], timeout: 30 };
  for (var i = 0; i < argv.length; i++) {
    var arg = argv[i];
    if (arg === '--stdio' || arg === '--seen' || arg === '--close') opts[arg.slice(2)] = true;
    else if (arg === '--listen') opts.listen = Number(argv[++i]);
    else if (arg === '--connect') opts.connect = argv[++i];
    else if (arg === '--id') opts.id = argv[++i];
    else if (arg === '--since') opts.since = Number(argv[++i]);
    else if (arg === '--timeout') opts.timeout = Number(argv[++i]);
    else opts.messages.push(arg);
  }
  return opts;
}

var opts = parse(process.argv.slice(2));
var data = {};
opts.messages.forEach(function (msg) { data[shasum(msg)] = msg; });
var keys = Object.keys(data);

function say(line) { process.stderr.write(line + '\n'); }

function finish(code, why) {
  if (why) say('# ' + why);
  process.exit(code);
}

setTimeout(function () { finish(3, 'TIMEOUT'); }, opts.timeout * 1000);

var ex = exchange(function (hash, cb) {
  var r = through();
  r.end(data[hash]);
  cb(null, r);
});

var provided = false, peerProvided = false, pending = 0, closing = false;

function provide(after) {
  provided = true;
  ex.provide(keys.slice(after));
}

function maybeClose() {
  if (!opts.close || closing || !peerProvided || !provided || pending > 0) return;
  closing = true;
  // hash-exchange ends its output in the same step as close() when the peer closed first,
  // dropping whatever is still queued (a SEEN just written, say): let the queue drain first.
  setImmediate(function () { ex.close(); });
}

ex.on('id', function (id) { say('# ID ' + id); });
ex.on('seen', function (seq) { say('# SEEN ' + seq); });
ex.on('since', function (seq) {
  say('# SINCE ' + seq);
  if (opts.since !== undefined && !provided) provide(Math.max(seq, 0));
  maybeClose();
});
ex.on('available', function (hashes) {
  peerProvided = true;
  pending += hashes.length;
  ex.request(hashes);
  maybeClose();
});
ex.on('response', function (hash, stream, seq) {
  stream.pipe(concat(function (body) {
    say('# BEGIN ' + hash);
    say(Buffer.from(body).toString('utf8'));
    say('# END ' + hash);
    if (opts.seen) ex.seen(seq);
    pending--;
    maybeClose();
  }));
});
ex.on('close', function () { finish(0, 'CLOSE'); });

if (opts.id !== undefined) ex.id(opts.id);
if (opts.since !== undefined) ex.since(opts.since);
else provide(0);

function wire(input, output) {
  input.pipe(ex).pipe(output);
  input.on('end', function () { finish(1, 'EOF'); });
  input.on('error', function (err) { finish(1, 'ERROR ' + err.message); });
}

if (opts.stdio) {
  wire(process.stdin, process.stdout);
} else if (opts.listen !== undefined) {
  var server = net.createServer(function (socket) {
    server.close();
    wire(socket, socket);
  });
  server.listen(opts.listen, '127.0.0.1', function () {
    say('# LISTENING 127.0.0.1:' + server.address().port);
  });
} else if (opts.connect) {
  var at = opts.connect.lastIndexOf(':');
  var socket = net.connect(Number(opts.connect.slice(at + 1)), opts.connect.slice(0, at));
  wire(socket, socket);
} else {
  finish(2, 'USAGE: --stdio, --listen PORT or --connect HOST:PORT');
}
