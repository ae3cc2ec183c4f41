-- @name: nexmark_q0
-- @description: Nexmark Q0: pass-through
-- Every bid, five of its columns: measures the cost of reading, decoding and writing.
CREATE STREAM nexmark_q0 AS
SELECT auction, bidder, price, dateTime, extra FROM bid
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q0.type' = 'file_sink',
  'nexmark_q0.path' = '${OUTPUT:nexmark_q0.jsonl}'
);
