# System events in the history are stored as a code and parameters, shown in the viewer's language.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('requests_app', '0002_constraint_violation_messages'),
    ]

    operations = [
        migrations.AddField(
            model_name='statuschange',
            name='event',
            field=models.CharField(blank=True, editable=False, max_length=30, verbose_name='event'),
        ),
        migrations.AddField(
            model_name='statuschange',
            name='params',
            field=models.JSONField(blank=True, default=dict, editable=False, verbose_name='event details'),
        ),
        migrations.AddConstraint(
            model_name='statuschange',
            constraint=models.CheckConstraint(condition=models.Q(('event', ''), ('event__in', ['reader_cancelled', 'cancellation_asked', 'cancellation_refused', 'quote_accepted', 'quote_declined', 'expired']), _connector='OR'), name='statuschange_event_valid'),
        ),
    ]
