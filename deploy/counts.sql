-- What a backup must bring back, as "name value" lines: the rows of every table, the prepaid
-- ledger's sums. deploy/backup.sh runs it in the dump's own snapshot; deploy/restore-drill.sh
-- runs it on the restored database and compares.
SELECT 'rows ' || c.relname || ' ' ||
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname),
                           false, true, '')))[1]::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'
ORDER BY c.relname;
SELECT 'ledger_entries ' || count(*) FROM accounts_ledgerentry;
SELECT 'ledger_amount_sum ' || coalesce(sum(amount), 0) FROM accounts_ledgerentry;
SELECT 'ledger_last_reference ' || coalesce(max(number), 0) FROM accounts_ledgerentry;
SELECT 'account_balance_sum ' || coalesce(sum(balance), 0) FROM accounts_account;
SELECT 'request_fee_sum ' || coalesce(sum(amount), 0) FROM requests_app_feeline;
SELECT 'request_last_number ' || coalesce(max(number), 0) FROM requests_app_illrequest;
