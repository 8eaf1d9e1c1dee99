"""The staff Dashboard's totals kept by the database itself (issue 12): three small tables of counts that triggers on
contract, kundencode and abo change in the same statement as the row they count, on SQLite (one row per key) and
PostgreSQL (rows of deltas per statement, added up by the reader and folded now and then, so that no writer waits
for another's count row: see POSTGRES). Every writer goes through them by construction (the portal's services, bulk writes, Tortoise's
queryset updates, raw SQL such as tests/scale_data.py), so a clerk's change shows at once and no code path can forget
them.

Why counters, not indexes: at 100,000 contracts a count reads every matching index entry, whatever index answers
it. Measured with EXPLAIN ANALYZE on PostgreSQL (vacuumed, index-only scans, 2 shared cores at load 6–14): 5–11 ms
for the 70,000 active contracts, 22–42 ms for the chart's (start, end) groups over 140,000 Abos (index
abo(startmonat, endmonat) alone), 58 ms for the 23,333 valid codes' join with their active contracts; on SQLite (CPU,
covering indexes) 2.5, 14 and 9 ms. The Dashboard wants all of them under 20 ms together; these tables answer in well
under 1 ms, their size growing with the statuses, month pairs and expiry days in use (and on PostgreSQL with the
statements since the last fold, at most services/dashboard.COMPACT_AT), never with the rows.

- dashboard_contracts (status, n): contracts per status.
- dashboard_abos (startmonat, endmonat, n): Abos per month pair; an open end is stored as 9999-12-31 (a key column
  cannot be NULL and still be unique on both databases).
- dashboard_codes (valid_until, n): the codes that are not revoked of the contracts that are 'aktiv', per expiry day
  (valid today = valid_until ≥ today: the count moves with the calendar without a write).

Tables, not models: tests empty the models' tables between tests (tests/conftest.empty_tables), and the triggers
bring these back to zero while doing so. A contract's codes leave dashboard_codes BEFORE the contract is deleted: its
codes' cascade runs after the row is gone, when their trigger no longer finds the contract.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

OPEN_END = '9999-12-31'
AKTIV = 'aktiv'  # ContractStatus.AKTIV as at this migration

# SQLite: one row per key, added to in place (the process's one connection writes one transaction at a time).
# PostgreSQL: rows of deltas, no key (see POSTGRES).
TABLES = {
    'sqlite': """
        CREATE TABLE IF NOT EXISTS dashboard_contracts (
            status VARCHAR(20) NOT NULL PRIMARY KEY, n INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS dashboard_abos (
            startmonat DATE NOT NULL, endmonat DATE NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (startmonat, endmonat));
        CREATE TABLE IF NOT EXISTS dashboard_codes (
            valid_until DATE NOT NULL PRIMARY KEY, n INTEGER NOT NULL);
    """,
    'postgres': """
        CREATE TABLE IF NOT EXISTS dashboard_contracts (status VARCHAR(20) NOT NULL, n INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS dashboard_abos (startmonat DATE NOT NULL, endmonat DATE NOT NULL, n INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS dashboard_codes (valid_until DATE NOT NULL, n INTEGER NOT NULL);
    """,
}

FILL = f"""
    DELETE FROM dashboard_contracts;
    DELETE FROM dashboard_abos;
    DELETE FROM dashboard_codes;
    INSERT INTO dashboard_contracts (status, n) SELECT status, COUNT(*) FROM contract GROUP BY status;
    INSERT INTO dashboard_abos (startmonat, endmonat, n)
        SELECT startmonat, COALESCE(endmonat, '{OPEN_END}'), COUNT(*) FROM abo
        GROUP BY startmonat, COALESCE(endmonat, '{OPEN_END}');
    INSERT INTO dashboard_codes (valid_until, n)
        SELECT k.valid_until, COUNT(*) FROM kundencode k JOIN contract c ON c.id = k.contract_id
        WHERE c.status = '{AKTIV}' AND k.revoked_at IS NULL GROUP BY k.valid_until;
"""

# PostgreSQL: statement triggers with transition tables (a bulk statement adds its rows grouped): row triggers
# updated the same count row once per row, and within one transaction each update walks the row's versions so far:
# tests/scale_data.py's 100,000 contracts took 207 s to fill, with statement triggers 15 s (20 s without any counts,
# same load). Deleting a contract stays a row trigger, BEFORE the delete, while its codes can still be found.
# Each statement INSERTs its deltas as rows of their own, never updates a count row in place: an update locks the row
# until the commit, and a Massenupload import is one transaction of up to minutes whose Abos start in the month every
# approval of those weeks starts in, so each approval waited for the import (test_writers_of_the_same_count_do_not_
# wait_for_each_other: lock timeout before). Readers add the rows up; services/dashboard.compact_counts folds them.
POSTGRES = f"""
    CREATE OR REPLACE FUNCTION dashboard_contract_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO dashboard_contracts (status, n) VALUES (OLD.status, -1);
        INSERT INTO dashboard_codes (valid_until, n)
        SELECT valid_until, -COUNT(*) FROM kundencode
        WHERE contract_id = OLD.id AND revoked_at IS NULL AND OLD.status = '{AKTIV}' GROUP BY valid_until;
        RETURN OLD;
    END $$;

    CREATE OR REPLACE FUNCTION dashboard_contracts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN  -- a new contract has no codes yet: kundencode references it
            INSERT INTO dashboard_contracts (status, n) SELECT status, COUNT(*) FROM new_rows GROUP BY status;
            RETURN NULL;
        END IF;
        WITH changed AS (
            SELECT o.id, o.status AS was, n.status AS now FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.status IS DISTINCT FROM n.status)
        INSERT INTO dashboard_contracts (status, n)
        SELECT status, SUM(d) FROM (SELECT was AS status, -1 AS d FROM changed UNION ALL SELECT now, 1 FROM changed) s
        GROUP BY status;
        WITH changed AS (
            SELECT o.id, o.status AS was, n.status AS now FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.status = '{AKTIV}') IS DISTINCT FROM (n.status = '{AKTIV}'))
        INSERT INTO dashboard_codes (valid_until, n)
        SELECT k.valid_until, SUM(CASE WHEN c.now = '{AKTIV}' THEN 1 ELSE -1 END)
        FROM changed c JOIN kundencode k ON k.contract_id = c.id WHERE k.revoked_at IS NULL GROUP BY k.valid_until;
        RETURN NULL;
    END $$;

    -- a code counts while it is not revoked and its contract is active
    CREATE OR REPLACE FUNCTION dashboard_codes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO dashboard_codes (valid_until, n)
            SELECT k.valid_until, COUNT(*) FROM new_rows k JOIN contract c ON c.id = k.contract_id
            WHERE c.status = '{AKTIV}' AND k.revoked_at IS NULL GROUP BY k.valid_until;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO dashboard_codes (valid_until, n)
            SELECT k.valid_until, -COUNT(*) FROM old_rows k JOIN contract c ON c.id = k.contract_id
            WHERE c.status = '{AKTIV}' AND k.revoked_at IS NULL GROUP BY k.valid_until;
        ELSE
            WITH moved AS (
                SELECT o.contract_id AS old_contract, o.revoked_at AS old_revoked, o.valid_until AS old_until,
                       n.contract_id AS new_contract, n.revoked_at AS new_revoked, n.valid_until AS new_until
                FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE (o.contract_id, o.revoked_at, o.valid_until) IS DISTINCT FROM
                      (n.contract_id, n.revoked_at, n.valid_until))
            INSERT INTO dashboard_codes (valid_until, n)
            SELECT valid_until, SUM(d) FROM (
                SELECT m.old_until AS valid_until, -1 AS d FROM moved m JOIN contract c ON c.id = m.old_contract
                WHERE c.status = '{AKTIV}' AND m.old_revoked IS NULL
                UNION ALL
                SELECT m.new_until, 1 FROM moved m JOIN contract c ON c.id = m.new_contract
                WHERE c.status = '{AKTIV}' AND m.new_revoked IS NULL) s
            GROUP BY valid_until;
        END IF;
        RETURN NULL;
    END $$;

    CREATE OR REPLACE FUNCTION dashboard_abos_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO dashboard_abos (startmonat, endmonat, n)
            SELECT startmonat, COALESCE(endmonat, '{OPEN_END}'), COUNT(*) FROM new_rows
            GROUP BY startmonat, COALESCE(endmonat, '{OPEN_END}');
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO dashboard_abos (startmonat, endmonat, n)
            SELECT startmonat, COALESCE(endmonat, '{OPEN_END}'), -COUNT(*) FROM old_rows
            GROUP BY startmonat, COALESCE(endmonat, '{OPEN_END}');
        ELSE
            WITH moved AS (
                SELECT o.startmonat AS old_start, COALESCE(o.endmonat, '{OPEN_END}') AS old_end,
                       n.startmonat AS new_start, COALESCE(n.endmonat, '{OPEN_END}') AS new_end
                FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE (o.startmonat, o.endmonat) IS DISTINCT FROM (n.startmonat, n.endmonat))
            INSERT INTO dashboard_abos (startmonat, endmonat, n)
            SELECT startmonat, endmonat, SUM(d) FROM (
                SELECT old_start AS startmonat, old_end AS endmonat, -1 AS d FROM moved
                UNION ALL SELECT new_start, new_end, 1 FROM moved) s
            GROUP BY startmonat, endmonat;
        END IF;
        RETURN NULL;
    END $$;

    CREATE OR REPLACE TRIGGER dashboard_contract_delete BEFORE DELETE ON contract
        FOR EACH ROW EXECUTE FUNCTION dashboard_contract_deleted();
    CREATE OR REPLACE TRIGGER dashboard_contract_insert AFTER INSERT ON contract REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_contracts_changed();
    CREATE OR REPLACE TRIGGER dashboard_contract_update AFTER UPDATE ON contract
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_contracts_changed();
    CREATE OR REPLACE TRIGGER dashboard_code_insert AFTER INSERT ON kundencode REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_codes_changed();
    CREATE OR REPLACE TRIGGER dashboard_code_delete AFTER DELETE ON kundencode REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_codes_changed();
    CREATE OR REPLACE TRIGGER dashboard_code_update AFTER UPDATE ON kundencode
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_codes_changed();
    CREATE OR REPLACE TRIGGER dashboard_abo_insert AFTER INSERT ON abo REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_abos_changed();
    CREATE OR REPLACE TRIGGER dashboard_abo_delete AFTER DELETE ON abo REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_abos_changed();
    CREATE OR REPLACE TRIGGER dashboard_abo_update AFTER UPDATE ON abo
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_abos_changed();
"""


def _upsert(table: str, keys: str, select: str) -> str:
    """SQLite: add a SELECT's (keys..., delta) rows to a count table (the WHERE keeps SQLite's parser from reading
    ON CONFLICT as a join's)."""
    return (f'INSERT INTO {table} ({keys}, n) {select} '
            f'ON CONFLICT ({keys}) DO UPDATE SET n = n + excluded.n;')


def _codes_of(row: str, sign: str) -> str:
    return _upsert('dashboard_codes', 'valid_until', (
        f'SELECT valid_until, {sign}COUNT(*) FROM kundencode WHERE contract_id = {row}.id AND revoked_at IS NULL '
        f"AND {row}.status = '{AKTIV}' GROUP BY valid_until"))


def _code(row: str, sign: str) -> str:
    return _upsert('dashboard_codes', 'valid_until', (
        f"SELECT {row}.valid_until, {sign}1 FROM contract WHERE id = {row}.contract_id AND status = '{AKTIV}' "
        f'AND {row}.revoked_at IS NULL'))


def _contracts(row: str, sign: str) -> str:
    return _upsert('dashboard_contracts', 'status', f'SELECT {row}.status, {sign}1 WHERE true')


def _abos(row: str, sign: str) -> str:
    return _upsert('dashboard_abos', 'startmonat, endmonat',
                   f"SELECT {row}.startmonat, COALESCE({row}.endmonat, '{OPEN_END}'), {sign}1 WHERE true")


SQLITE = f"""
    CREATE TRIGGER IF NOT EXISTS dashboard_contract_insert AFTER INSERT ON contract BEGIN
        {_contracts('new', '')} {_codes_of('new', '')}
    END;
    CREATE TRIGGER IF NOT EXISTS dashboard_contract_delete BEFORE DELETE ON contract BEGIN
        {_contracts('old', '-')} {_codes_of('old', '-')}
    END;
    CREATE TRIGGER IF NOT EXISTS dashboard_contract_update AFTER UPDATE OF status ON contract
    WHEN old.status IS NOT new.status BEGIN
        {_contracts('old', '-')} {_codes_of('old', '-')} {_contracts('new', '')} {_codes_of('new', '')}
    END;
    CREATE TRIGGER IF NOT EXISTS dashboard_code_insert AFTER INSERT ON kundencode BEGIN {_code('new', '')} END;
    CREATE TRIGGER IF NOT EXISTS dashboard_code_delete AFTER DELETE ON kundencode BEGIN {_code('old', '-')} END;
    CREATE TRIGGER IF NOT EXISTS dashboard_code_update AFTER UPDATE OF contract_id, revoked_at, valid_until
    ON kundencode BEGIN
        {_code('old', '-')} {_code('new', '')}
    END;
    CREATE TRIGGER IF NOT EXISTS dashboard_abo_insert AFTER INSERT ON abo BEGIN {_abos('new', '')} END;
    CREATE TRIGGER IF NOT EXISTS dashboard_abo_delete AFTER DELETE ON abo BEGIN {_abos('old', '-')} END;
    CREATE TRIGGER IF NOT EXISTS dashboard_abo_update AFTER UPDATE OF startmonat, endmonat ON abo BEGIN
        {_abos('old', '-')} {_abos('new', '')}
    END;
"""

TRIGGERS = {
    'sqlite': ('dashboard_contract_insert', 'dashboard_contract_delete', 'dashboard_contract_update',
               'dashboard_code_insert', 'dashboard_code_delete', 'dashboard_code_update',
               'dashboard_abo_insert', 'dashboard_abo_delete', 'dashboard_abo_update'),
    'postgres': tuple(f'{name} ON {table}' for table, names in (
        ('contract', ('dashboard_contract_insert', 'dashboard_contract_delete', 'dashboard_contract_update')),
        ('kundencode', ('dashboard_code_insert', 'dashboard_code_delete', 'dashboard_code_update')),
        ('abo', ('dashboard_abo_insert', 'dashboard_abo_delete', 'dashboard_abo_update'))) for name in names),
}
FUNCTIONS = ('dashboard_contract_deleted', 'dashboard_contracts_changed', 'dashboard_codes_changed',
             'dashboard_abos_changed')


async def create_counts(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == 'postgres'
    await client.execute_script(TABLES[client.capabilities.dialect])
    await client.execute_script(POSTGRES if postgres else SQLITE)
    await client.execute_script(FILL)


async def drop_counts(apps, schema_editor) -> None:
    client = schema_editor.client
    dialect = client.capabilities.dialect
    await client.execute_script(' '.join(f'DROP TRIGGER IF EXISTS {name};' for name in TRIGGERS[dialect]))
    if dialect == 'postgres':
        await client.execute_script(' '.join(f'DROP FUNCTION IF EXISTS {name};' for name in FUNCTIONS))
    await client.execute_script('DROP TABLE IF EXISTS dashboard_contracts; DROP TABLE IF EXISTS dashboard_abos; '
                                'DROP TABLE IF EXISTS dashboard_codes;')


class Migration(migrations.Migration):
    dependencies = [('models', '0016_search_fill')]

    initial = False

    operations = [ops.RunPython(create_counts, drop_counts)]
