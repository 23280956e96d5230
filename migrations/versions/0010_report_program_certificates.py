"""report summary: program certificates (rows of a program, no course)

Revision ID: 0010_report_programs
Revises: 0009_quiz_versions
Create Date: 2026-12-05 10:32:41.174341

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_report_programs'
down_revision = '0009_quiz_versions'
branch_labels = None
depends_on = None

TABLES = ('report_summary', 'report_summary_all_time')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('program_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('program_certificates', sa.Integer(), nullable=False, server_default='0'))
            batch_op.alter_column('course_id', existing_type=sa.INTEGER(), nullable=True)
            batch_op.create_index(batch_op.f(f'ix_{table}_program_id'), ['program_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_program_id_programs'), 'programs', ['program_id'], ['id'],
                                        ondelete='CASCADE')
            batch_op.create_check_constraint(batch_op.f(f'ck_{table}_one_subject'),
                                             '(course_id IS NULL) <> (program_id IS NULL)')


def downgrade():
    for table in reversed(TABLES):
        # The summary is rebuilt from the base tables; program rows have no place in the old shape.
        op.execute(sa.text(f'DELETE FROM {table} WHERE course_id IS NULL'))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_one_subject'), type_='check')
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_program_id_programs'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_program_id'))
            batch_op.alter_column('course_id', existing_type=sa.INTEGER(), nullable=False)
            batch_op.drop_column('program_certificates')
            batch_op.drop_column('program_id')
