-- @name: nexmark_q5
-- @description: Nexmark Q5: hot items
-- The auctions with the most bids in each 10-second window sliding by 2 seconds: per window the
-- bid count of every auction, joined with the highest count of that window. Nexmark's HOP window
-- TVF is WINDOW SLIDING here. Needs a window join of two windowed aggregates.
CREATE STREAM nexmark_q5 AS
SELECT AuctionBids.auction, AuctionBids.num
FROM (
  SELECT auction, COUNT(*) AS num, _window_start AS starttime, _window_end AS endtime
  FROM bid
  GROUP BY auction
  WINDOW SLIDING (dateTime, INTERVAL '10' SECOND, INTERVAL '2' SECOND)
) AS AuctionBids
JOIN (
  SELECT MAX(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
  FROM (
    SELECT COUNT(*) AS num, _window_start AS starttime, _window_end AS endtime
    FROM bid
    GROUP BY auction
    WINDOW SLIDING (dateTime, INTERVAL '10' SECOND, INTERVAL '2' SECOND)
  ) AS CountBids
  GROUP BY CountBids.starttime, CountBids.endtime
) AS MaxBids
ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime = MaxBids.endtime
   AND AuctionBids.num >= MaxBids.maxn
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q5.type' = 'file_sink',
  'nexmark_q5.changelog.mode' = 'changelog',
  'nexmark_q5.path' = '${OUTPUT:nexmark_q5.jsonl}'
);
