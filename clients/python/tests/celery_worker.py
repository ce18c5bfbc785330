"""The Celery app of test_celery.py, as a platform's worker module is
written: a client at import and a warm-up call at import, in the worker's
parent, before the prefork pool forks its children."""

import os

from celery import Celery

import aiconfig

_folder = os.environ["AICONFIG_CELERY_DIR"]
app = Celery("aiconfig_test")
app.conf.update(
    broker_url="filesystem://",
    broker_transport_options={
        "data_folder_in": os.path.join(_folder, "queue"),
        "data_folder_out": os.path.join(_folder, "queue"),
        "processed_folder": os.path.join(_folder, "processed"),
        "store_processed": False,
        "polling_interval": 0.05,
    },
    result_backend="file://" + os.path.join(_folder, "results"),
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
)

client = aiconfig.Client(os.environ["AICONFIG_TARGET"], token=os.environ["AICONFIG_TOKEN"], insecure=True)
if os.environ.get("AICONFIG_WARM_UP") == "1":
    client.model_config(os.environ["AICONFIG_ACCOUNT"], "generate_content")  # in the parent, before the fork


@app.task  # no retry: every read must succeed the first time
def temperature(account_id):
    cfg = client.model_config(account_id, "generate_content")
    return [os.getpid(), cfg.temperature, cfg.api_key == os.environ["AICONFIG_EXPECTED_KEY"]]
