-- PostgreSQL partitions the presence log and visits by day (postgres/0018_partitions.sql); the embedded SQLite
-- database keeps single tables, purged by deleting rows. Nothing to change here.
SELECT 1;
