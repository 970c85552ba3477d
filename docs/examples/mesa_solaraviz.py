"""trustsim's TrustModel in Mesa's own SolaraViz: ``solara run mesa_solaraviz.py``.

Parameters are the model's keywords (``trustsim params`` lists them); Reset builds a new
model from the sliders, as for any Mesa model.
"""

from mesa.visualization import SolaraViz, make_plot_component

import trustsim

model_params = {
    "n_customers": {
        "type": "SliderInt",
        "value": 60,
        "min": 20,
        "max": 300,
        "step": 10,
        "label": "customers",
    },
    "ring_gradient": {
        "type": "SliderFloat",
        "value": 0.7,
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
        "label": "ring gradient",
    },
    "rng": 1,
}
page = SolaraViz(
    trustsim.TrustModel(n_customers=60, rng=1),
    components=[make_plot_component(["mean_trust", "insider_share"])],
    model_params=model_params,
    name="trustsim in SolaraViz",
)
