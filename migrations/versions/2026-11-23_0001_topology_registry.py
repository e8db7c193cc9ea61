"""topology registry

Revision ID: 0001
Revises:
Create Date: 2026-11-23 16:20:08.932987
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "country",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_country")),
        sa.UniqueConstraint("code", name=op.f("uq_country_code")),
        sa.UniqueConstraint("name", name=op.f("uq_country_name")),
    )
    op.create_table(
        "ngi",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("primary_key", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("rod_email", sa.String(length=255), nullable=True),
        sa.Column("security_email", sa.String(length=255), nullable=True),
        sa.Column("helpdesk_email", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ngi")),
        sa.UniqueConstraint("name", name=op.f("uq_ngi_name")),
        sa.UniqueConstraint("primary_key", name=op.f("uq_ngi_primary_key")),
    )
    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("primary_key", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("name", name=op.f("uq_project_name")),
        sa.UniqueConstraint("primary_key", name=op.f("uq_project_primary_key")),
    )
    op.create_table(
        "scope",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("reserved", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scope")),
        sa.UniqueConstraint("name", name=op.f("uq_scope_name")),
    )
    op.create_table(
        "service_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("primary_key", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("monitored", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=512), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_group")),
        sa.UniqueConstraint("name", name=op.f("uq_service_group_name")),
        sa.UniqueConstraint("primary_key", name=op.f("uq_service_group_primary_key")),
    )
    op.create_table(
        "service_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("monitoring_exception", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_type")),
        sa.UniqueConstraint("name", name=op.f("uq_service_type_name")),
    )
    op.create_table(
        "ngi_scope",
        sa.Column("ngi_id", sa.Integer(), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ngi_id"], ["ngi.id"], name=op.f("fk_ngi_scope_ngi_id_ngi"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["scope_id"], ["scope.id"], name=op.f("fk_ngi_scope_scope_id_scope"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ngi_id", "scope_id", name=op.f("pk_ngi_scope")),
    )
    with op.batch_alter_table("ngi_scope", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ngi_scope_scope_id"), ["scope_id"], unique=False)

    op.create_table(
        "project_ngi",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("ngi_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ngi_id"], ["ngi.id"], name=op.f("fk_project_ngi_ngi_id_ngi"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_project_ngi_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "ngi_id", name=op.f("pk_project_ngi")),
    )
    with op.batch_alter_table("project_ngi", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_ngi_ngi_id"), ["ngi_id"], unique=False)

    op.create_table(
        "service_group_property",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_group_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_group_id"],
            ["service_group.id"],
            name=op.f("fk_service_group_property_service_group_id_service_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_group_property")),
        sa.UniqueConstraint(
            "service_group_id", "key", name=op.f("uq_service_group_property_service_group_id_key")
        ),
    )
    with op.batch_alter_table("service_group_property", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_group_property_service_group_id"),
            ["service_group_id"],
            unique=False,
        )

    op.create_table(
        "service_group_scope",
        sa.Column("service_group_id", sa.Integer(), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scope_id"],
            ["scope.id"],
            name=op.f("fk_service_group_scope_scope_id_scope"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_group_id"],
            ["service_group.id"],
            name=op.f("fk_service_group_scope_service_group_id_service_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "service_group_id", "scope_id", name=op.f("pk_service_group_scope")
        ),
    )
    with op.batch_alter_table("service_group_scope", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_group_scope_scope_id"), ["scope_id"], unique=False
        )

    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("primary_key", sa.String(length=32), nullable=True),
        sa.Column("short_name", sa.String(length=255), nullable=False),
        sa.Column("official_name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column(
            "certification_status",
            sa.Enum(
                "Candidate",
                "Uncertified",
                "Certified",
                "Suspended",
                "Closed",
                name="certification_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("certification_status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "production_infrastructure",
            sa.Enum(
                "Production",
                "Test",
                name="production_infrastructure",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("ngi_id", sa.Integer(), nullable=False),
        sa.Column("country_id", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("home_url", sa.String(length=512), nullable=True),
        sa.Column("email", sa.String(length=512), nullable=True),
        sa.Column("telephone", sa.String(length=255), nullable=True),
        sa.Column("alarm_email", sa.String(length=512), nullable=True),
        sa.Column("csirt_email", sa.String(length=512), nullable=True),
        sa.Column("csirt_telephone", sa.String(length=255), nullable=True),
        sa.Column("giis_url", sa.String(length=512), nullable=True),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["country_id"],
            ["country.id"],
            name=op.f("fk_site_country_id_country"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["ngi_id"], ["ngi.id"], name=op.f("fk_site_ngi_id_ngi"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("primary_key", name=op.f("uq_site_primary_key")),
        sa.UniqueConstraint("short_name", name=op.f("uq_site_short_name")),
    )
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_country_id"), ["country_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_ngi_id"), ["ngi_id"], unique=False)

    op.create_table(
        "service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("primary_key", sa.String(length=32), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("service_type_id", sa.Integer(), nullable=False),
        sa.Column("host_name", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=True),
        sa.Column("production", sa.Boolean(), nullable=False),
        sa.Column("monitored", sa.Boolean(), nullable=False),
        sa.Column("beta", sa.Boolean(), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("host_dn", sa.String(length=512), nullable=True),
        sa.Column("ipv4_address", sa.String(length=64), nullable=True),
        sa.Column("ipv6_address", sa.String(length=64), nullable=True),
        sa.Column("operating_system", sa.String(length=255), nullable=True),
        sa.Column("architecture", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=512), nullable=True),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_type_id"],
            ["service_type.id"],
            name=op.f("fk_service_service_type_id_service_type"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_service_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service")),
        sa.UniqueConstraint("primary_key", name=op.f("uq_service_primary_key")),
    )
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_host_name"), ["host_name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_service_service_type_id"), ["service_type_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_site_id"), ["site_id"], unique=False)

    op.create_table(
        "site_property",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_site_property_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_property")),
        sa.UniqueConstraint("site_id", "key", name=op.f("uq_site_property_site_id_key")),
    )
    with op.batch_alter_table("site_property", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_property_site_id"), ["site_id"], unique=False)

    op.create_table(
        "site_scope",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scope_id"],
            ["scope.id"],
            name=op.f("fk_site_scope_scope_id_scope"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_site_scope_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", "scope_id", name=op.f("pk_site_scope")),
    )
    with op.batch_alter_table("site_scope", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_scope_scope_id"), ["scope_id"], unique=False)

    op.create_table(
        "endpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=True),
        sa.Column("interface_name", sa.String(length=255), nullable=False),
        sa.Column("monitored", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("email", sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_endpoint_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint")),
        sa.UniqueConstraint("service_id", "name", name=op.f("uq_endpoint_service_id_name")),
    )
    with op.batch_alter_table("endpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_endpoint_service_id"), ["service_id"], unique=False)

    op.create_table(
        "service_group_member",
        sa.Column("service_group_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_group_id"],
            ["service_group.id"],
            name=op.f("fk_service_group_member_service_group_id_service_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_group_member_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "service_group_id", "service_id", name=op.f("pk_service_group_member")
        ),
    )
    with op.batch_alter_table("service_group_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_group_member_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "service_property",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_property_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_property")),
        sa.UniqueConstraint("service_id", "key", name=op.f("uq_service_property_service_id_key")),
    )
    with op.batch_alter_table("service_property", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_property_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "service_scope",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scope_id"],
            ["scope.id"],
            name=op.f("fk_service_scope_scope_id_scope"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_scope_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "scope_id", name=op.f("pk_service_scope")),
    )
    with op.batch_alter_table("service_scope", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_scope_scope_id"), ["scope_id"], unique=False)

    op.create_table(
        "endpoint_property",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoint.id"],
            name=op.f("fk_endpoint_property_endpoint_id_endpoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint_property")),
        sa.UniqueConstraint(
            "endpoint_id", "key", name=op.f("uq_endpoint_property_endpoint_id_key")
        ),
    )
    with op.batch_alter_table("endpoint_property", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_endpoint_property_endpoint_id"), ["endpoint_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("endpoint_property", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoint_property_endpoint_id"))

    op.drop_table("endpoint_property")
    with op.batch_alter_table("service_scope", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_scope_scope_id"))

    op.drop_table("service_scope")
    with op.batch_alter_table("service_property", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_property_service_id"))

    op.drop_table("service_property")
    with op.batch_alter_table("service_group_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_group_member_service_id"))

    op.drop_table("service_group_member")
    with op.batch_alter_table("endpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoint_service_id"))

    op.drop_table("endpoint")
    with op.batch_alter_table("site_scope", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_scope_scope_id"))

    op.drop_table("site_scope")
    with op.batch_alter_table("site_property", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_property_site_id"))

    op.drop_table("site_property")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_site_id"))
        batch_op.drop_index(batch_op.f("ix_service_service_type_id"))
        batch_op.drop_index(batch_op.f("ix_service_host_name"))

    op.drop_table("service")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_ngi_id"))
        batch_op.drop_index(batch_op.f("ix_site_country_id"))

    op.drop_table("site")
    with op.batch_alter_table("service_group_scope", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_group_scope_scope_id"))

    op.drop_table("service_group_scope")
    with op.batch_alter_table("service_group_property", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_group_property_service_group_id"))

    op.drop_table("service_group_property")
    with op.batch_alter_table("project_ngi", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_ngi_ngi_id"))

    op.drop_table("project_ngi")
    with op.batch_alter_table("ngi_scope", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ngi_scope_scope_id"))

    op.drop_table("ngi_scope")
    op.drop_table("service_type")
    op.drop_table("service_group")
    op.drop_table("scope")
    op.drop_table("project")
    op.drop_table("ngi")
    op.drop_table("country")
