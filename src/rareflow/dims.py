"""Dimension names, defined once and used everywhere (never axis numbers).

Every labelled array in rareflow uses these names. Engines that work on plain numpy
arrays document their axis order with the same words, e.g. ``[region, stage, year]``.
"""

YEAR = "year"
MONTH = "month"
REGION = "region"
ORIGIN = "origin"          # exporting region of a trade flow
DESTINATION = "destination"
STAGE = "stage"
PROCESS = "process"
MATERIAL = "material"
ELEMENT = "element"
SECTOR = "sector"
FACILITY = "facility"
COHORT = "cohort"
SAMPLE = "sample"
SCENARIO = "scenario"
