-- @name: nexmark_q1
-- @description: Nexmark Q1: currency conversion
-- Each bid's price converted from dollars to euros (Nexmark's DECIMAL(23, 3) is a DOUBLE here).
CREATE STREAM nexmark_q1 AS
SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q1.type' = 'file_sink',
  'nexmark_q1.path' = '${OUTPUT:nexmark_q1.jsonl}'
);
