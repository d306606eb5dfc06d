-- Roles and permissions are data. This seed is the initial grant table; change it with a new
-- migration, never by editing this one. No user (and so no default credential) is created here.
INSERT INTO "roles" ("name", "description") VALUES
  ('homeowner', 'Keeps properties and browses the service catalog'),
  ('service_provider', 'Publishes services and browses the service catalog'),
  ('admin', 'Manages users, roles and reads the audit trail')
ON CONFLICT ("name") DO NOTHING;
--> statement-breakpoint
INSERT INTO "permissions" ("name", "description") VALUES
  ('properties:read', 'Read one''s own properties'),
  ('properties:write', 'Create, change and delete one''s own properties'),
  ('services:read', 'Read one''s own published services'),
  ('services:write', 'Create, change and delete one''s own services'),
  ('catalog:read', 'Browse the catalog of active services'),
  ('users:read', 'Read any user account'),
  ('users:manage', 'Enable and disable user accounts'),
  ('roles:assign', 'Grant and revoke roles'),
  ('audit:read', 'Read the audit trail')
ON CONFLICT ("name") DO NOTHING;
--> statement-breakpoint
INSERT INTO "role_permissions" ("role_name", "permission_name") VALUES
  ('homeowner', 'properties:read'),
  ('homeowner', 'properties:write'),
  ('homeowner', 'catalog:read'),
  ('service_provider', 'services:read'),
  ('service_provider', 'services:write'),
  ('service_provider', 'catalog:read')
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "role_permissions" ("role_name", "permission_name")
SELECT 'admin', "name" FROM "permissions"
ON CONFLICT DO NOTHING;
