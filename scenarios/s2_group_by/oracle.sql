SELECT symbol, COUNT(*), SUM(quantity), AVG(price), MIN(price), MAX(price) FROM trades GROUP BY symbol
