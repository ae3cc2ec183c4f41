-- @name: nexmark_q18
-- @description: Nexmark Q18: find last bid
-- Each bidder's last bid on each auction: deduplication keeping the latest row per (bidder,
-- auction) (ROW_NUMBER ordered by event time descending, rank 1; an updating result). Needs
-- deduplication (Top-1).
CREATE STREAM nexmark_q18 AS
SELECT auction, bidder, price, channel, url, dateTime, extra
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY dateTime DESC) AS rank_number
  FROM bid
) AS T
WHERE rank_number <= 1
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q18.type' = 'file_sink',
  'nexmark_q18.path' = '${OUTPUT:nexmark_q18.jsonl}'
);
