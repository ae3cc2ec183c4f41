-- @name: nexmark_q13
-- @description: Nexmark Q13: bounded side input join
-- Bids enriched from a bounded side input (side_input.jsonl, keys 0..9999, each value its key as
-- text, as Nexmark's SideInputGenerator writes it) on auction mod 10000. Nexmark joins the side
-- input as a lookup table FOR SYSTEM_TIME AS OF the bid's processing time; this is the plain
-- stream-table join form. Needs a lookup (stream-table) join.
CREATE STREAM nexmark_q13 AS
SELECT B.auction, B.bidder, B.price, B.dateTime, S.value
FROM bid AS B
JOIN side_input AS S ON MOD(B.auction, 10000) = S.key
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'side_input.type' = 'file_source',
  'side_input.path' = '${NEXMARK:nexmark}/side_input.jsonl',
  'side_input.format' = 'json',
  'side_input.schema' = 'key BIGINT, value STRING',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q13.type' = 'file_sink',
  'nexmark_q13.path' = '${OUTPUT:nexmark_q13.jsonl}'
);
