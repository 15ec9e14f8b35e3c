// Replays pre-signed request bodies with autocannon, each body once, and prints autocannon's result as JSON.
// Usage: node run.js URL REQUESTS.jsonl CONNECTIONS [AMOUNT]
// A line of REQUESTS.jsonl is {"headers": {...}, "body": "..."}; AMOUNT defaults to the number of lines.
"use strict";
const fs = require("fs");
const autocannon = require("autocannon");

const [url, file, connections, amountArg] = process.argv.slice(2);
const requests = fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line));
const amount = amountArg ? Number(amountArg) : requests.length;
let next = 0;
// The run is timed here, from the start to the last answer. autocannon notices that its amount is done only
// at its next one-second tick, so its own duration (and a clock read when it reports) comes in whole seconds:
// a 10 s run read 10 % long or short.
const started = process.hrtime.bigint();
let last = started;

const instance = autocannon(
  {
    url,
    method: "POST",
    connections: Number(connections),
    amount,
    timeout: 120,
    requests: [
      {
        // One shared counter: every body goes out once across all connections (the receiver dedupes).
        setupRequest: (request) => {
          const item = requests[next % requests.length];
          next += 1;
          return { ...request, method: "POST", headers: item.headers, body: item.body };
        },
      },
    ],
  },
  (error, result) => {
    if (error) {
      console.error(String(error));
      process.exit(1);
    }
    const elapsed = Number(last - started) / 1e9;
    process.stdout.write(JSON.stringify({ ...result, elapsed }));
  },
);
instance.on("response", () => {
  last = process.hrtime.bigint();
});
