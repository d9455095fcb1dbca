from django.urls import path

from . import account_views

urlpatterns = [
    path("account/", account_views.account, name="account"),
    path("account/statement/", account_views.statement, name="account_statement"),
    path("account/statement.csv", account_views.statement_csv, name="account_statement_csv"),
    path("account/receipt/", account_views.receipt, name="account_receipt"),
]
