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
// autocannon's own duration is coarse (steps of about 10 ms); the run is timed here, to the microsecond.
const started = process.hrtime.bigint();

autocannon(
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
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(JSON.stringify({ ...result, elapsed }));
  },
);
