import { Type } from 'typebox';
import { PageQueryFields, Strict, Timestamp, Uuid } from '../../lib/schemas.js';

/** The roles seeded by migration 0001; a migration that adds one adds it here (a test compares). */
export const ROLE_NAMES = ['homeowner', 'service_provider', 'admin'] as const;

export const RoleName = Type.Enum(ROLE_NAMES, { title: 'RoleName', description: 'A role' });

export const Role = Type.Object(
  {
    name: Type.String({ examples: ['homeowner'] }),
    description: Type.String(),
    permissions: Type.Array(Type.String()),
  },
  { title: 'Role', description: 'A role and the permissions it grants' },
);

export const UserListQuery = Type.Object(
  {
    email: Type.Optional(
      Type.String({ minLength: 1, maxLength: 254, description: 'Email prefix' }),
    ),
    role: Type.Optional(RoleName),
    ...PageQueryFields,
  },
  { additionalProperties: false },
);

export const UserStatusPatch = Strict({ isActive: Type.Boolean() }, { title: 'UserStatusPatch' });
export const GrantRoleBody = Strict({ role: RoleName }, { title: 'GrantRoleBody' });
export const UserRoleParams = Type.Object(
  { id: Uuid, role: RoleName },
  { additionalProperties: false },
);

export const AuditQuery = Type.Object(
  {
    userId: Type.Optional(Uuid),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z_.]+$' })),
    ...PageQueryFields,
  },
  { additionalProperties: false },
);

export const AuditEvent = Type.Object(
  {
    id: Uuid,
    type: Type.String({ examples: ['role.granted'] }),
    actorId: Type.Union([Uuid, Type.Null()]),
    subjectId: Type.Union([Uuid, Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    requestId: Type.Union([Type.String(), Type.Null()]),
    data: Type.Record(Type.String(), Type.Unknown()),
    createdAt: Timestamp,
  },
  { title: 'AuditEvent', description: 'One entry of the audit trail' },
);
