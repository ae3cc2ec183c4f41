-- @name: nexmark_q7
-- @description: Nexmark Q7: highest bid
-- The highest bids of each 10-second tumbling window: the bids whose price equals the window's
-- maximum, joined back by price within the window's 10 seconds (Nexmark's column order: auction,
-- price, bidder). Needs an interval join of the bid stream with a windowed aggregate of it.
CREATE STREAM nexmark_q7 AS
SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
FROM bid AS B
JOIN (
  SELECT MAX(price) AS maxprice, _window_end AS dateTime
  FROM bid
  WINDOW TUMBLING (dateTime, INTERVAL '10' SECOND)
) AS B1
ON B.price = B1.maxprice
   AND B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q7.type' = 'file_sink',
  'nexmark_q7.path' = '${OUTPUT:nexmark_q7.jsonl}'
);
