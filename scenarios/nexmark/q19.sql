-- @name: nexmark_q19
-- @description: Nexmark Q19: auction top-10 price
-- The 10 highest bids of each auction, with their rank: unwindowed Top-N (an updating result).
-- Needs Top-N.
CREATE STREAM nexmark_q19 AS
SELECT *
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rank_number
  FROM bid
) AS T
WHERE rank_number <= 10
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q19.type' = 'file_sink',
  'nexmark_q19.changelog.mode' = 'changelog',
  'nexmark_q19.path' = '${OUTPUT:nexmark_q19.jsonl}'
);
