"""Photon mass attenuation coefficients typed in from the NIST tables.

Source: J. H. Hubbell and S. M. Seltzer, *Tables of X-Ray Mass Attenuation Coefficients and
Mass Energy-Absorption Coefficients* (NIST Standard Reference Database 126, NISTIR 5632,
https://physics.nist.gov/PhysRefData/XrayMassCoef/), Table 3 (elements) and Table 4 (caesium
iodide). Values are the total mass attenuation coefficient mu/rho **with** coherent scattering,
in cm^2/g, copied at the tabulated energies from 20 keV to 10 MeV (four significant figures,
as published). Compounds and mixtures are built from these by the mixture rule
(mu/rho = sum_i w_i (mu/rho)_i), which is what XCOM does away from absorption edges.

Only the elements that the scene materials need are listed. Lead carries its K edge at
88.0045 keV as two rows with the same energy (below / above the edge), as NIST prints it;
:func:`vision.xray.materials.interpolate_log_log` handles such duplicated rows. The L edges
of lead (13-16 keV) lie below the 20 keV lower limit of every spectrum used here.
"""

from __future__ import annotations

from typing import Final

#: Energies (keV) of the common table rows, 20 keV .. 10 MeV.
TABLE_ENERGIES_KEV: Final[tuple[float, ...]] = (
    20.0, 30.0, 40.0, 50.0, 60.0, 80.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0,
    600.0, 800.0, 1000.0, 1250.0, 1500.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0,
    8000.0, 10000.0,
)

#: symbol -> (atomic number Z, standard atomic weight A in g/mol).
ELEMENTS: Final[dict[str, tuple[int, float]]] = {
    "H": (1, 1.00794),
    "C": (6, 12.0107),
    "N": (7, 14.0067),
    "O": (8, 15.9994),
    "Na": (11, 22.98977),
    "Al": (13, 26.98154),
    "Si": (14, 28.0855),
    "Cl": (17, 35.453),
    "Ca": (20, 40.078),
    "Fe": (26, 55.845),
    "Cu": (29, 63.546),
    "Pb": (82, 207.2),
}

#: symbol -> mu/rho (cm^2/g) at :data:`TABLE_ENERGIES_KEV` (NIST Table 3).
MASS_ATTENUATION: Final[dict[str, tuple[float, ...]]] = {
    "H": (0.3695, 0.357, 0.3458, 0.3355, 0.326, 0.3091, 0.2944, 0.2651, 0.2429, 0.2112,
          0.1893, 0.1729, 0.1599, 0.1405, 0.1263, 0.1129, 0.1027, 0.08769, 0.06921, 0.05806,
          0.05049, 0.04498, 0.03746, 0.03254),
    "C": (0.442, 0.2562, 0.2076, 0.1871, 0.1753, 0.161, 0.1514, 0.1347, 0.1229, 0.1066,
          0.09546, 0.08715, 0.08058, 0.07076, 0.06361, 0.0569, 0.05179, 0.04442, 0.03562,
          0.03047, 0.02708, 0.02469, 0.02154, 0.01959),
    "N": (0.6178, 0.3066, 0.2288, 0.198, 0.1817, 0.1639, 0.1529, 0.1353, 0.1233, 0.1068,
          0.09557, 0.08719, 0.08063, 0.07081, 0.06364, 0.05693, 0.0518, 0.0445, 0.03579,
          0.03073, 0.02742, 0.02511, 0.02209, 0.02024),
    "O": (0.8651, 0.3779, 0.2585, 0.2132, 0.1907, 0.1678, 0.1551, 0.1361, 0.1237, 0.107,
          0.09566, 0.08729, 0.0807, 0.07087, 0.06372, 0.05697, 0.05185, 0.04459, 0.03597,
          0.031, 0.02777, 0.02552, 0.02263, 0.02089),
    "Na": (2.057, 0.7197, 0.3969, 0.2804, 0.2268, 0.1796, 0.1585, 0.1335, 0.1199, 0.1029,
           0.09185, 0.08372, 0.07736, 0.06788, 0.061, 0.05454, 0.04968, 0.04282, 0.03487,
           0.03037, 0.02753, 0.02559, 0.02319, 0.02181),
    "Al": (3.441, 1.128, 0.5685, 0.3681, 0.2778, 0.2018, 0.1704, 0.1378, 0.1223, 0.1042,
           0.09276, 0.08445, 0.07802, 0.06841, 0.06146, 0.05496, 0.05006, 0.04324, 0.03541,
           0.03106, 0.02836, 0.02655, 0.02437, 0.02318),
    "Si": (4.464, 1.436, 0.7012, 0.4385, 0.3207, 0.2228, 0.1835, 0.1448, 0.1275, 0.1082,
           0.09614, 0.08748, 0.08077, 0.07082, 0.06361, 0.05688, 0.05183, 0.0448, 0.03678,
           0.0324, 0.02967, 0.02788, 0.02574, 0.02462),
    "Cl": (7.739, 2.425, 1.117, 0.6483, 0.4395, 0.2696, 0.205, 0.148, 0.1266, 0.1054,
           0.09311, 0.08453, 0.07795, 0.06826, 0.06128, 0.05478, 0.04994, 0.04328, 0.03585,
           0.03188, 0.0295, 0.02798, 0.02628, 0.02549),
    "Ca": (13.06, 4.08, 1.83, 1.019, 0.6578, 0.3656, 0.2571, 0.1674, 0.1376, 0.1116,
           0.09783, 0.08851, 0.08148, 0.07122, 0.06388, 0.05709, 0.05207, 0.04524, 0.0378,
           0.03395, 0.0317, 0.03035, 0.02892, 0.02839),
    "Fe": (25.68, 8.176, 3.629, 1.958, 1.205, 0.5952, 0.3717, 0.1964, 0.146, 0.1099,
           0.094, 0.08414, 0.07704, 0.06699, 0.05995, 0.0535, 0.04883, 0.04265, 0.03621,
           0.03312, 0.03146, 0.03057, 0.02991, 0.02994),
    "Cu": (33.79, 10.92, 4.862, 2.613, 1.593, 0.763, 0.4584, 0.2217, 0.1559, 0.1119,
           0.09413, 0.08362, 0.07625, 0.06605, 0.05901, 0.05261, 0.04803, 0.04205, 0.03599,
           0.03318, 0.03177, 0.03108, 0.03074, 0.03103),
}

#: Lead has its own energy column because of the K edge (88.0045 keV, two rows).
LEAD_ENERGIES_KEV: Final[tuple[float, ...]] = (
    20.0, 30.0, 40.0, 50.0, 60.0, 80.0, 88.0045, 88.0045, 100.0, 150.0, 200.0, 300.0,
    400.0, 500.0, 600.0, 800.0, 1000.0, 1250.0, 1500.0, 2000.0, 3000.0, 4000.0, 5000.0,
    6000.0, 8000.0, 10000.0,
)
LEAD_MASS_ATTENUATION: Final[tuple[float, ...]] = (
    86.36, 30.32, 14.36, 8.041, 5.021, 2.419, 1.91, 7.683, 5.549, 2.014, 0.9985, 0.4031,
    0.2323, 0.1614, 0.1248, 0.0887, 0.07102, 0.05876, 0.05222, 0.04606, 0.04234, 0.04197,
    0.04272, 0.04391, 0.04675, 0.04972,
)

#: Caesium iodide (scintillator of the dual-layer detector model), NIST Table 4, 20-200 keV.
#: K edges of I (33.17 keV) and Cs (35.98 keV) appear as duplicated energies.
CSI_ENERGIES_KEV: Final[tuple[float, ...]] = (
    20.0, 30.0, 33.1694, 33.1694, 34.5483, 35.9846, 35.9846, 40.0, 50.0, 60.0, 80.0,
    100.0, 150.0, 200.0,
)
CSI_MASS_ATTENUATION: Final[tuple[float, ...]] = (
    26.86, 9.045, 6.923, 21.22, 26.87, 17.19, 30.27, 22.97, 12.87, 7.921, 3.677, 2.035,
    0.729, 0.3805,
)
CSI_DENSITY_G_CM3: Final[float] = 4.51

#: Valid energy range of every table here (keV).
MIN_ENERGY_KEV: Final[float] = 20.0
MAX_ENERGY_KEV: Final[float] = 10000.0
