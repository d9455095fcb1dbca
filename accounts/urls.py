from django.urls import path

from . import account_views, legacy_views

urlpatterns = [
    path("account/", account_views.account, name="account"),
    path("account/statement/", account_views.statement, name="account_statement"),
    path("account/statement.csv", account_views.statement_csv, name="account_statement_csv"),
    path("account/receipt/", account_views.receipt, name="account_receipt"),
    path("account/old-system/", legacy_views.account_legacy, name="account_legacy"),
    path("link/choose/", legacy_views.choose, name="legacy_choice"),
    path("link/old-account/", legacy_views.old_account, name="legacy_link_old_account"),
    path("link/confirm/", legacy_views.confirm, name="legacy_link_confirm"),
    path("link/attach/", legacy_views.attach, name="legacy_attach"),
]
