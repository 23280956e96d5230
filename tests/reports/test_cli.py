"""Command-line tools of reports and the API, and the beat task."""

from sqlalchemy import select

from lms.api.models import ApiToken, hash_token
from lms.reports.models import LocalityTarget, ReportRefresh


def test_reports_refresh_and_the_beat_task(app, db_session, facts):
    assert "reports.refresh_summary" in {entry["task"] for entry in app.config["CELERY"]["beat_schedule"].values()}
    before = db_session.scalar(select(ReportRefresh).order_by(ReportRefresh.id.desc()))
    result = app.test_cli_runner().invoke(args=["reports", "refresh"])
    assert result.exit_code == 0 and "report summary:" in result.output
    app.extensions["celery"].tasks["reports.refresh_summary"].apply()
    latest = db_session.scalar(select(ReportRefresh).order_by(ReportRefresh.id.desc()))
    assert latest.id > before.id and latest.rows > 0


def test_import_targets_from_csv(app, db_session, tmp_path, commune):
    path = tmp_path / "targets.csv"
    path.write_text("locality,audience,population,target_percent,due_on\n2025-07/26506,citizen,52000,60,2026-12-31\n",
                    encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["reports", "import-targets", str(path)])
    assert result.exit_code == 0 and "1 saved" in result.output
    target = db_session.scalar(select(LocalityTarget))
    assert target.locality_id == commune("26506").id and target.target_count == 31200

    path.write_text("locality,audience,population,target_percent,due_on\n2025-07/26506,aliens,5,60,2026-12-31\n")
    result = app.test_cli_runner().invoke(args=["reports", "import-targets", str(path)])
    assert result.exit_code == 1 and "line 2" in result.output


def test_api_create_token_prints_it_once_and_stores_a_hash(app, db_session, commune):
    result = app.test_cli_runner().invoke(args=["api", "create-token", "--name", "IOC", "--locality", "2025-01/77"])
    assert result.exit_code == 0
    secret = result.output.strip().splitlines()[-1]
    token = db_session.scalar(select(ApiToken))
    assert secret.startswith("lms_") and token.token_hash == hash_token(secret) and token.locality.code == "77"
    assert "revoked" in app.test_cli_runner().invoke(args=["api", "revoke-token", str(token.id)]).output
    bad = app.test_cli_runner().invoke(args=["api", "create-token", "--name", "x", "--locality", "2025-07/00000"])
    assert bad.exit_code == 1 and "no locality" in bad.output


def test_api_create_token_narrowed_to_an_agency(app, db_session, commune):
    from lms.agencies.operations import save_agency

    save_agency(None, code="SO-TTTT", name="Sở Thông tin và Truyền thông", kind="department")
    db_session.commit()
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["api", "create-token", "--name", "Sở", "--locality", "2025-01/77", "--agency", "NOPE"])
    assert unknown.exit_code != 0 and "no agency NOPE" in unknown.output
    result = runner.invoke(args=["api", "create-token", "--name", "Sở", "--locality", "2025-01/77", "--agency", "SO-TTTT"])
    assert result.exit_code == 0, result.output
    token = db_session.scalar(select(ApiToken).order_by(ApiToken.id.desc()))
    assert token.agency.code == "SO-TTTT" and token.locality.code == "77"
