"""The one reader of the environment, shared by every settings module: a developer's .env file
is read when present; real deployments set real environment variables."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
