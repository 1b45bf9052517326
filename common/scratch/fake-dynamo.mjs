// Scratch: a trivial keep-alive DynamoDB stand-in (PutItem -> {}, BatchGetItem -> no items).
import { createServer } from "node:http";
const server = createServer({ keepAlive: true, keepAliveTimeout: 60000 }, (req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const target = String(req.headers["x-amz-target"] ?? "");
    let body = "{}";
    if (target.endsWith("BatchGetItem")) {
      const input = JSON.parse(Buffer.concat(chunks).toString());
      const t = Object.keys(input.RequestItems)[0];
      body = JSON.stringify({ Responses: { [t]: [] }, UnprocessedKeys: {} });
    }
    res.writeHead(200, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "x", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => console.log(server.address().port));
