-- @name: nexmark_q2
-- @description: Nexmark Q2: selection
-- The bids of every 123rd auction.
CREATE STREAM nexmark_q2 AS
SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q2.type' = 'file_sink',
  'nexmark_q2.path' = '${OUTPUT:nexmark_q2.jsonl}'
);
