"""Dual-energy X-ray physics: materials, spectra, transmission, Zeff and reviewer views.

Typical use::

    from vision.xray import simulate_dual_energy, zeff_map, material_classes, pseudo_colour
    low, high = simulate_dual_energy(stack, rng=np.random.default_rng(0))
    rgb = pseudo_colour(low, high)
"""

from vision.xray.materials import MATERIALS, REFERENCE_MATERIALS, Material, get_material
from vision.xray.render import (
    DEFAULT_PALETTE,
    INITIAL_PALETTE,
    Palette,
    class_only_view,
    edge_enhance,
    grayscale_high,
    material_views,
    pseudo_colour,
)
from vision.xray.spectra import (
    DualEnergySpectrum,
    dual_layer_160kv,
    linac_dual_energy,
    two_effective_energies,
)
from vision.xray.transmission import (
    DEFAULT_DETECTOR,
    DetectorModel,
    MaterialStack,
    decode_raw16,
    encode_raw16,
    simulate_dual_energy,
    validate_pair,
)
from vision.xray.zeff import MaterialClass, ZeffCalibration, calibrate, material_classes, zeff_map

__all__ = [
    "DEFAULT_DETECTOR",
    "DEFAULT_PALETTE",
    "INITIAL_PALETTE",
    "MATERIALS",
    "REFERENCE_MATERIALS",
    "DetectorModel",
    "DualEnergySpectrum",
    "Material",
    "MaterialClass",
    "MaterialStack",
    "Palette",
    "ZeffCalibration",
    "calibrate",
    "class_only_view",
    "decode_raw16",
    "dual_layer_160kv",
    "edge_enhance",
    "encode_raw16",
    "get_material",
    "grayscale_high",
    "linac_dual_energy",
    "material_classes",
    "material_views",
    "pseudo_colour",
    "simulate_dual_energy",
    "two_effective_energies",
    "validate_pair",
    "zeff_map",
]
