SELECT trader_id, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS avg_price, MIN(price) AS low,
       MAX(price) AS high
FROM trades GROUP BY trader_id
