-- The CRM's database roles, kept in shape on every run (idempotent). Run by the bootstrap Job
-- as the master user, with psql variables: owner, login, verifier (the SCRAM verifier of the
-- login's password: the password itself never reaches the server or its logs), database.

-- The owner: holds the database and everything in it, cannot log in.
SELECT format('CREATE ROLE %I NOLOGIN', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
ALTER ROLE :"owner" NOLOGIN NOCREATEDB NOCREATEROLE;
GRANT :"owner" TO CURRENT_USER;
ALTER DATABASE :"database" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;

-- The login the CRM uses now (of two that alternate on rotation): acts as the owner, so what
-- it creates belongs to the owner and the other login can use it after the next rotation.
SELECT format('CREATE ROLE %I LOGIN', :'login')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'login') \gexec
ALTER ROLE :"login" LOGIN INHERIT NOCREATEDB NOCREATEROLE PASSWORD :'verifier';
GRANT :"owner" TO :"login";
ALTER ROLE :"login" SET role TO :'owner';

-- No other membership (rds_superuser above all) for either role.
SELECT format('REVOKE %I FROM %I', granted.rolname, member.rolname)
  FROM pg_auth_members AS membership
  JOIN pg_roles AS granted ON granted.oid = membership.roleid
  JOIN pg_roles AS member ON member.oid = membership.member
 WHERE member.rolname IN (:'owner', :'login')
   AND NOT (member.rolname = :'login' AND granted.rolname = :'owner') \gexec

-- Fail loudly if a role still has a privilege it must not have (only a superuser grants them).
SELECT format('SELECT %L::int', 'role ' || rolname || ' has privileges the CRM must not have')
  FROM pg_roles
 WHERE rolname IN (:'owner', :'login')
   AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls) \gexec
