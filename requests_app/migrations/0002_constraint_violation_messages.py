# Readable messages for the constraints staff can break through the admin (amounts, costs).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('requests_app', '0001_ill_requests'),
    ]

    operations = [
        migrations.AlterConstraint(
            model_name='feeline',
            name='feeline_amount_not_negative',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gte', 0)), name='feeline_amount_not_negative', violation_error_message="A fee line's amount is 0 or more; to lower a fee, change or delete its line."),
        ),
        migrations.AlterConstraint(
            model_name='illrequest',
            name='illrequest_max_cost_not_negative',
            constraint=models.CheckConstraint(condition=models.Q(('max_cost__gte', 0)), name='illrequest_max_cost_not_negative', violation_error_message='The maximum cost is 0 or more.'),
        ),
        migrations.AlterConstraint(
            model_name='illrequest',
            name='illrequest_quote_not_negative',
            constraint=models.CheckConstraint(condition=models.Q(('quote__isnull', True), ('quote__gte', 0), _connector='OR'), name='illrequest_quote_not_negative', violation_error_message='The quoted cost is 0 or more.'),
        ),
    ]
