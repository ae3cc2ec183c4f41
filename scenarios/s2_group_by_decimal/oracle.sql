SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, ROUND(AVG(price), 6) AS avg_price, MIN(price) AS low,
       MAX(price) AS high
FROM trades GROUP BY symbol
