import casehooks.sender


def test_public_api_of_the_sender() -> None:
    assert sorted(casehooks.sender.__all__) == [
        "EVENT_TYPES",
        "Outcome",
        "TriggerOptions",
        "TriggerSummary",
        "fake_event",
        "run_trigger",
    ]
    for name in casehooks.sender.__all__:
        assert getattr(casehooks.sender, name) is not None
