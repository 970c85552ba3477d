"""The classroom: lessons (lessons, text, locale.toml), the Solara page (app, views,
ringview, chart, plots, capacity, assets, session) and the animated GIF (animate);
commands registers ``trustsim app`` and ``trustsim animate``."""
