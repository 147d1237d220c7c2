# JupyterLab settings for this repository's notebooks, picked up by the README's command:
#     jupyter lab --config=jupyter/jupyter_lab_config.py book/
# A classroom laptop is often offline: no news feed, no update check, no extension catalogue, no pop-up.
from pathlib import Path

c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)

c.LabApp.news_url = None  # no news request from the server
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"  # the extension manager does not query PyPI
# Default values of JupyterLab's own settings, kept with the repository: overrides.json beside this file
# turns off the "get notified about official Jupyter news?" toast (see jupyter/README.md).
c.LabApp.app_settings_dir = str(Path(__file__).resolve().parent)
c.ServerApp.ip = "127.0.0.1"  # the notebooks are served on loopback only
