"""The staff Dashboard's totals kept by the database itself (issue 12): three small tables, each row a count, that
triggers on contract, kundencode and abo change in the same statement as the row they count, on SQLite and
PostgreSQL. Every writer goes through them by construction (the portal's services, bulk writes, Tortoise's
queryset updates, raw SQL such as tests/scale_data.py), so a clerk's change shows at once and no code path can forget
them.

Why counters, not indexes: at 100,000 contracts a count reads every matching index entry. Measured with EXPLAIN
ANALYZE (vacuumed, index-only scans, 2 shared cores): PostgreSQL 5–11 ms for the 70,000 active contracts, 22–42 ms
for the chart's (start, end) groups over 140,000 Abos, 58 ms for the valid codes' join with their active contracts;
SQLite 2.5 ms, 28 ms and 25 ms. The Dashboard wants all of them under 20 ms together; these tables answer in well
under 1 ms, their size growing with the statuses, month pairs and expiry days in use, never with the rows.

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

TABLES = """
    CREATE TABLE IF NOT EXISTS dashboard_contracts (
        status VARCHAR(20) NOT NULL PRIMARY KEY, n INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS dashboard_abos (
        startmonat DATE NOT NULL, endmonat DATE NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (startmonat, endmonat));
    CREATE TABLE IF NOT EXISTS dashboard_codes (
        valid_until DATE NOT NULL PRIMARY KEY, n INTEGER NOT NULL);
"""

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

POSTGRES = f"""
    CREATE OR REPLACE FUNCTION dashboard_add_contracts(the_status VARCHAR, delta INTEGER) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO dashboard_contracts (status, n) VALUES (the_status, delta)
        ON CONFLICT (status) DO UPDATE SET n = dashboard_contracts.n + EXCLUDED.n $$;

    CREATE OR REPLACE FUNCTION dashboard_add_abos(von DATE, bis DATE, delta INTEGER) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO dashboard_abos (startmonat, endmonat, n) VALUES (von, COALESCE(bis, '{OPEN_END}'), delta)
        ON CONFLICT (startmonat, endmonat) DO UPDATE SET n = dashboard_abos.n + EXCLUDED.n $$;

    -- the codes that are not revoked of one contract, if it is active
    CREATE OR REPLACE FUNCTION dashboard_add_codes_of(the_contract INTEGER, delta INTEGER) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO dashboard_codes (valid_until, n)
        SELECT k.valid_until, delta * COUNT(*) FROM kundencode k JOIN contract c ON c.id = k.contract_id
        WHERE k.contract_id = the_contract AND c.status = '{AKTIV}' AND k.revoked_at IS NULL GROUP BY k.valid_until
        ON CONFLICT (valid_until) DO UPDATE SET n = dashboard_codes.n + EXCLUDED.n $$;

    -- one code, if it is not revoked and its contract is active
    CREATE OR REPLACE FUNCTION dashboard_add_code(the_contract INTEGER, revoked TIMESTAMPTZ, day DATE,
                                                  delta INTEGER) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO dashboard_codes (valid_until, n)
        SELECT day, delta FROM contract WHERE id = the_contract AND status = '{AKTIV}' AND revoked IS NULL
        ON CONFLICT (valid_until) DO UPDATE SET n = dashboard_codes.n + EXCLUDED.n $$;

    CREATE OR REPLACE FUNCTION dashboard_contract_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            PERFORM dashboard_add_contracts(OLD.status, -1);
            PERFORM dashboard_add_codes_of(OLD.id, -1);  -- before the change (DELETE) or as it was (UPDATE)
        END IF;
        RETURN COALESCE(NEW, OLD);
    END $$;
    CREATE OR REPLACE FUNCTION dashboard_contract_counted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM dashboard_add_contracts(NEW.status, 1);
        PERFORM dashboard_add_codes_of(NEW.id, 1);
        RETURN NULL;
    END $$;
    CREATE OR REPLACE TRIGGER dashboard_contract_delete BEFORE DELETE ON contract
        FOR EACH ROW EXECUTE FUNCTION dashboard_contract_changed();
    CREATE OR REPLACE TRIGGER dashboard_contract_update_before BEFORE UPDATE OF status ON contract
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION dashboard_contract_changed();
    CREATE OR REPLACE TRIGGER dashboard_contract_update_after AFTER UPDATE OF status ON contract
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION dashboard_contract_counted();
    CREATE OR REPLACE TRIGGER dashboard_contract_insert AFTER INSERT ON contract
        FOR EACH ROW EXECUTE FUNCTION dashboard_contract_counted();

    CREATE OR REPLACE FUNCTION dashboard_code_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            PERFORM dashboard_add_code(OLD.contract_id, OLD.revoked_at, OLD.valid_until, -1);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM dashboard_add_code(NEW.contract_id, NEW.revoked_at, NEW.valid_until, 1);
        END IF;
        RETURN NULL;
    END $$;
    CREATE OR REPLACE TRIGGER dashboard_code_changed AFTER INSERT OR DELETE OR UPDATE OF contract_id, revoked_at,
        valid_until ON kundencode FOR EACH ROW EXECUTE FUNCTION dashboard_code_changed();

    CREATE OR REPLACE FUNCTION dashboard_abo_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            PERFORM dashboard_add_abos(OLD.startmonat, OLD.endmonat, -1);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM dashboard_add_abos(NEW.startmonat, NEW.endmonat, 1);
        END IF;
        RETURN NULL;
    END $$;
    CREATE OR REPLACE TRIGGER dashboard_abo_changed AFTER INSERT OR DELETE OR UPDATE OF startmonat, endmonat
        ON abo FOR EACH ROW EXECUTE FUNCTION dashboard_abo_changed();
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
    'postgres': ('dashboard_contract_delete ON contract', 'dashboard_contract_update_before ON contract',
                 'dashboard_contract_update_after ON contract', 'dashboard_contract_insert ON contract',
                 'dashboard_code_changed ON kundencode', 'dashboard_abo_changed ON abo'),
}

FUNCTIONS = ('dashboard_contract_changed', 'dashboard_contract_counted', 'dashboard_code_changed',
             'dashboard_abo_changed', 'dashboard_add_contracts', 'dashboard_add_abos', 'dashboard_add_codes_of',
             'dashboard_add_code')


async def create_counts(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == 'postgres'
    await client.execute_script(TABLES)
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
