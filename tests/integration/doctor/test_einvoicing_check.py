"""`bridge doctor`'s E-invoicing and Organisation checks against the sandbox."""

from __future__ import annotations

from bridge.ops.doctor import Finding, Level, diagnose
from connectors.sage_active.sandbox import seed_id
from tests.support.pipeline import Pipeline


def _einvoicing(pipeline: Pipeline) -> list[Finding]:
    return [f for f in diagnose(pipeline.services).findings if f.check == "E-invoicing"]


def test_registered_and_every_product_category_mapped(pipeline: Pipeline) -> None:
    first, mapping = _einvoicing(pipeline)
    assert first.level is Level.OK
    assert "registered (Accepted)" in first.detail
    assert "fr.siren" in first.detail
    assert mapping.level is Level.OK
    assert "every Sage product is mapped" in mapping.detail


def test_a_product_of_an_unmapped_category_is_named(pipeline: Pipeline) -> None:
    pipeline.services.sage.client.execute(
        "mutation ($v: ProductCreateGLDtoInput!) { createProduct(input: $v) { id } }",
        {"v": {"code": "KIT-POSE", "name": "Kit et pose", "category": "PRODUCT_AND_SERVICE",
               "taxGroupId": str(seed_id("taxGroup", "20"))}},
        mutation=True,
        name="createProduct",
    )  # fmt: skip
    _, mapping = _einvoicing(pipeline)
    assert mapping.level is Level.WARNING
    assert "KIT-POSE (PRODUCT_AND_SERVICE)" in mapping.detail


def test_a_failed_registration_is_an_error_that_says_what_happens(pipeline: Pipeline) -> None:
    pipeline.control.einvoicing(status="Failed")
    [finding] = _einvoicing(pipeline)
    assert finding.level is Level.ERROR
    assert not finding.holds  # invoices go on, booked as today
    assert "Failed" in finding.detail
    assert "errorCode REGISTRATION_FAILED" in finding.detail
    assert "booked as today" in finding.detail


def test_several_organisations_and_none_chosen_is_refused_naming_them(pipeline: Pipeline) -> None:
    added = pipeline.control.http.post("/_sandbox/organizations", json={"name": "Atelier SAS"})
    assert added.status_code == 201
    findings = diagnose(pipeline.services).findings
    [organisation] = [f for f in findings if f.check == "Organisation"]
    assert organisation.level is Level.ERROR
    assert organisation.holds
    assert "sees 2 organisations" in organisation.detail
    assert "Boutique Démo SAS" in organisation.detail
    assert "Atelier SAS" in organisation.detail
    # and the checks that read the organisation's data are not run against a guess
    [journal] = [f for f in findings if f.check == "Sales journal"]
    assert journal.level is Level.WARNING
