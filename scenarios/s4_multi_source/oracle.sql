SELECT trader_id, symbol, trade_time - trade_time % 60000 AS minute_start, COUNT(*) AS trades,
       SUM(quantity) AS volume, AVG(price) AS avg_price
FROM trades GROUP BY trader_id, symbol, trade_time - trade_time % 60000
