"""``casehooks schema`` and ``casehooks inspect``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casehooks.cli import app
from casehooks.events import event_json_schema
from tests.conftest import ATTACHMENT_SEED, COMMENT_SEED, SEED_PHI

runner = CliRunner()


def test_schema_prints_the_schema_of_every_event() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == event_json_schema()


def test_schema_of_one_event() -> None:
    result = runner.invoke(app, ["schema", "ADD_CASE_COMMENT"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["title"] == "ADD_CASE_COMMENT"
    assert schema["properties"]["event"]["const"] == "ADD_CASE_COMMENT"
    assert "comment" in schema["$defs"]["CommentPayload"]["properties"]


@pytest.mark.parametrize("key", ["comment", "comments"])
def test_schema_of_the_comment_event_accepts_both_keys(key: str) -> None:
    from jsonschema import Draft202012Validator

    result = runner.invoke(app, ["schema", "ADD_CASE_COMMENT"])
    body = json.loads(Path(COMMENT_SEED).read_text())
    body["payload"][key] = body["payload"].pop("comment")
    Draft202012Validator(json.loads(result.stdout)).validate(body)


def test_schema_of_a_decision_names_its_prescriptions() -> None:
    result = runner.invoke(app, ["schema", "ADD_CASE_DECISION"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["properties"]["event"]["const"] == "ADD_CASE_DECISION"
    assert "medInfo" in schema["$defs"]["AddedDecision"]["properties"]


@pytest.mark.parametrize(
    ("seed", "model", "case_id", "activity_id"),
    [
        (
            ATTACHMENT_SEED,
            "CaseAttachmentAdded",
            "5abd7b81-6702-42d7-a776-a10b363a5be2",
            "d1141cfd-9f3b-4e50-ac0f-78e83477dc02",
        ),
        (
            COMMENT_SEED,
            "CaseCommentAdded",
            "ec7ebb4c-3a36-43bf-93f7-3c292020c281",
            "2c87f7a8-00f7-4db4-80e2-98cc77baa68c",
        ),
    ],
)
def test_inspect_json_summarises_the_seed(seed: Path, model: str, case_id: str, activity_id: str) -> None:
    result = runner.invoke(app, ["inspect", str(seed), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["model"] == model
    assert summary["case_id"] == case_id
    assert summary["activity_id"] == activity_id
    assert summary["attachments"] == 1
    kinds = {deviation["kind"] for deviation in summary["deviations"]}
    assert {"not_uuid", "not_base64", "null", "undocumented_field"} <= kinds


@pytest.mark.parametrize("seed", [ATTACHMENT_SEED, COMMENT_SEED], ids=["attachment", "comment"])
@pytest.mark.parametrize("flags", [[], ["--json"]], ids=["table", "json"])
def test_inspect_output_carries_no_phi(seed: Path, flags: list[str]) -> None:
    result = runner.invoke(app, ["inspect", str(seed), *flags], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    for value in SEED_PHI:
        assert value not in result.output


def test_inspect_table_names_the_event_and_its_deviations() -> None:
    result = runner.invoke(app, ["inspect", str(COMMENT_SEED)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "ADD_CASE_COMMENT" in result.output
    assert "CaseCommentAdded" in result.output
    assert "payload.comment.author.id" in result.output


def test_inspect_reads_standard_input() -> None:
    result = runner.invoke(app, ["inspect", "-", "--json"], input=ATTACHMENT_SEED.read_bytes())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["event"] == "ADD_CASE_ATTACHMENT"


def test_inspect_of_an_unreadable_body_exits_2_without_echoing_it(tmp_path: Path) -> None:
    body = tmp_path / "bad.json"
    body.write_text('{"event": "ADD_CASE_COMMENT", "payload": {"comment": {"text": "Zebediah"}}}')
    result = runner.invoke(app, ["inspect", str(body)])
    assert result.exit_code == 2
    assert "payload.comment.id" in result.output
    assert "Zebediah" not in result.output
