"""The GraphQL documents of the typed operations; each requests only the fields used."""

from __future__ import annotations

CUSTOMER_FIELDS = "id code socialName"
PRODUCT_FIELDS = "id code name salesVatPercentage category"
OPEN_ITEM_FIELDS = "id amount paidAmountAccumulated status dueDate"
INVOICE_SUMMARY_FIELDS = (
    "id status operationalNumber salesOrderNumber externalReference type customerId "
    "sourceSalesInvoiceId documentDate modificationDate totalNet totalVat totalLiquid "
    "eInvoicingStatus eInvoice { id status rejectedReason creationDate }"
)
INVOICE_FIELDS = (
    INVOICE_SUMMARY_FIELDS
    + " lines { id productId productCode totalQuantity unitPrice totalNet totalLiquid"
    " vatPercentage firstDiscount availableForCreditNoteQuantity }"
    " openItems { " + OPEN_ITEM_FIELDS + " }"
)
PAGE_INFO = "pageInfo { endCursor hasNextPage } totalCount"

ORGANIZATIONS = """
query ($first: Int) { organizations(first: $first) { nodes { id socialName legislationCode
  status onboardingCompleted } } }
"""
ORGANIZATION_DETAIL = """
query { organizationDetail { id socialName legislationCode documentId vatNumber } }
"""
EINVOICE_SETUP = """
query { organizationEInvoiceSetupByOrgId { id status errorCode effectiveDate
  salesInvoiceEffectiveDate } }
"""
PAYMENT_METHODS = """
query { paymentMethods(first: 500) { nodes { id referenceName type disabled journalTypeId } } }
"""
JOURNAL_TYPES = """
query { journalTypes(first: 500) { nodes { id code name type deactivated } } }
"""
TAXES = """
query { taxes(first: 500) { nodes { id name percentage groupId inactive } } }
"""
CUSTOMER_BY_CODE = (
    "query ($code: String) { customers(first: 1, where: { code: { eq: $code } }) "
    "{ nodes { " + CUSTOMER_FIELDS + " } } }"
)
# `contains` is Sage's case-insensitive operator (`eq` is exact); the exact address is
# then picked from the e-mails returned.
CUSTOMER_BY_EMAIL = (
    "query ($email: String) { customers(first: 20, where: { contacts: { some: { emails: "
    "{ some: { emailAddress: { contains: $email } } } } } }, order: [{ creationDate: ASC }]) "
    "{ nodes { " + CUSTOMER_FIELDS + " contacts { emails { emailAddress } } } } }"
)
CREATE_CUSTOMER = (
    "mutation ($values: CustomerCreateGLDtoInput!) { createCustomer(input: $values) "
    "{ " + CUSTOMER_FIELDS + " } }"
)
PRODUCTS_BY_CODES = (
    "query ($codes: [String], $first: Int) { products(first: $first, where: "
    "{ code: { in: $codes } }) { nodes { " + PRODUCT_FIELDS + " } } }"
)
CREATE_PRODUCT = (
    "mutation ($values: ProductCreateGLDtoInput!) { createProduct(input: $values) "
    "{ " + PRODUCT_FIELDS + " } }"
)
INVOICE_BY_ID = (
    "query ($id: UUID) { salesInvoices(first: 1, where: { id: { eq: $id } }) "
    "{ nodes { " + INVOICE_FIELDS + " } } }"
)
INVOICES_BY_ORDER = (
    "query ($ref: String) { salesInvoices(first: 50, where: { salesOrderNumber: "
    "{ eq: $ref } }, order: [{ creationDate: ASC }]) { nodes { " + INVOICE_FIELDS + " } } }"
)
# Hot Chocolate names the filter input of entity `SalesInvoice` like this; only used
# when the caller adds a filter of its own.
SALES_INVOICE_FILTER = "SalesInvoiceFilterInput"
INVOICES_CHANGED = (
    "query ($since: DateTime, $first: Int, $after: String) "
    "{ salesInvoices(first: $first, after: $after, where: { modificationDate: { gte: $since } }, "
    "order: [{ modificationDate: ASC }]) { nodes { "
    + INVOICE_SUMMARY_FIELDS
    + " } "
    + PAGE_INFO
    + " } }"
)
INVOICES_CHANGED_WHERE = (
    "query ($since: DateTime, $where: " + SALES_INVOICE_FILTER + "!, $first: Int, $after: String) "
    "{ salesInvoices(first: $first, after: $after, where: { and: [{ modificationDate: "
    "{ gte: $since } }, $where] }, order: [{ modificationDate: ASC }]) { nodes { "
    + INVOICE_SUMMARY_FIELDS
    + " } "
    + PAGE_INFO
    + " } }"
)
ACCOUNTING_ENTRIES_BY_DOCUMENT = (
    "query ($doc: String) { accountingEntries(first: 50, where: { documentNumber: "
    "{ eq: $doc } }) { nodes { id number documentNumber description date journalTypeId "
    "sourceEntityId } } }"
)

# Batchable operations: (root field, input type, selection).
CREATE_INVOICE = (
    "createSalesInvoice",
    "SalesInvoiceCreateGLDtoInput!",
    "id status operationalNumber totalNet totalVat totalLiquid"
    " lines { vatPercentage totalNet totalLiquid }",
)
CLOSE_INVOICE = ("closeSalesInvoice", "CloseSalesInvoiceGLDtoInput!", "id operationalNumber")
POST_INVOICE = (
    "postSalesInvoice",
    "PostSalesInvoiceGLDtoInput!",
    "accountingEntryId accountingEntryNumber",
)
# Open items of one invoice as a batchable query: (root field, filter type, selection).
OPEN_ITEMS_FIELD = (
    "salesInvoices",
    SALES_INVOICE_FILTER,
    "nodes { id openItems { " + OPEN_ITEM_FIELDS + " } }",
)
GENERATE_CREDIT_NOTE = ("generateCreditNote", "GenerateCreditNoteGLDtoInput!", "id")
RETRY_EINVOICE = (
    "mutation ($values: RetrySalesInvoiceElectronicSubmissionGLDtoInput!) "
    "{ retrySalesInvoiceElectronicSubmission(input: $values) { id } }"
)
SETTLEMENT_INPUT_TYPE = "SalesOpenItemSettlementGLDtoInput!"
SETTLEMENT_FIELDS = "accountingEntryId accountingEntryNumber"
