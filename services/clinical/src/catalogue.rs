//! The measurements Sentinel understands, keyed by LOINC code as the FHIR vital-signs profile
//! uses them, each with one canonical UCUM unit, the units accepted and how they convert, and
//! a physiologically plausible range in the canonical unit (docs/ingestion.md gives sources).

/// LOINC's code system.
pub const LOINC: &str = "http://loinc.org";
/// ISO/IEEE 11073-10101 (MDC), the devices' own nomenclature, for what a device says that LOINC
/// has no vital-sign code for (RR intervals, perfusion index).
pub const MDC: &str = "urn:iso:std:iso:11073:10101";
/// Sentinel's code system for coded events without a value.
pub const EVENTS: &str = "urn:sentinel:event";

/// How a value in an accepted unit becomes the canonical one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Conversion {
    /// canonical = value × factor
    Factor(f64),
    /// canonical °C = (value − 32) × 5/9
    FahrenheitToCelsius,
}

impl Conversion {
    pub fn apply(self, value: f64) -> f64 {
        match self {
            Conversion::Factor(factor) => value * factor,
            Conversion::FahrenheitToCelsius => (value - 32.0) * 5.0 / 9.0,
        }
    }
}

/// A quantity measured under one code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    pub code: &'static str,
    pub display: &'static str,
    pub canonical_unit: &'static str,
    pub units: &'static [(&'static str, Conversion)],
    /// Inclusive, in the canonical unit.
    pub plausible: (f64, f64),
}

impl Measure {
    pub fn conversion(&self, unit: &str) -> Option<Conversion> {
        self.units.iter().find(|(u, _)| *u == unit).map(|(_, c)| *c)
    }

    pub fn accepted_units(&self) -> String {
        self.units
            .iter()
            .map(|(u, _)| *u)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A component a reading may carry: a panel's parts (systolic, diastolic, mean arterial
/// pressure), or what a device says beside a value (the RR intervals of a heart rate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Part {
    pub system: &'static str,
    pub measure: Measure,
    /// Whether the reading is incomplete without it.
    pub required: bool,
    /// How many a reading may carry.
    pub max: usize,
}

impl Part {
    const fn required(measure: Measure) -> Part {
        Part {
            system: LOINC,
            measure,
            required: true,
            max: 1,
        }
    }

    const fn optional(system: &'static str, measure: Measure, max: usize) -> Part {
        Part {
            system,
            measure,
            required: false,
            max,
        }
    }
}

/// What a code stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A value, with the components its code allows beside it (none for most).
    Scalar(Measure, &'static [Part]),
    /// A panel whose value is its components (blood pressure).
    Panel {
        code: &'static str,
        display: &'static str,
        components: &'static [Part],
    },
    /// A coded event without a value (a fall, a pump occlusion).
    Event {
        code: &'static str,
        display: &'static str,
    },
}

/// One mmol/L of glucose in mg/dL: the molar mass of glucose, 180.156 g/mol, over 10.
pub const GLUCOSE_MG_DL_PER_MMOL_L: f64 = 18.0156;
/// One kPa in mm[Hg].
const MMHG_PER_KPA: f64 = 7.500_62;

const PER_MIN: &[(&str, Conversion)] = &[
    ("/min", Conversion::Factor(1.0)),
    ("{beats}/min", Conversion::Factor(1.0)),
];
const PERCENT: &[(&str, Conversion)] = &[("%", Conversion::Factor(1.0))];
const MMHG: &[(&str, Conversion)] = &[
    ("mm[Hg]", Conversion::Factor(1.0)),
    ("kPa", Conversion::Factor(MMHG_PER_KPA)),
];
const GLUCOSE_MASS: &[(&str, Conversion)] = &[
    ("mg/dL", Conversion::Factor(1.0)),
    ("mmol/L", Conversion::Factor(GLUCOSE_MG_DL_PER_MMOL_L)),
];

pub const SYSTOLIC: Measure = Measure {
    code: "8480-6",
    display: "Systolic blood pressure",
    canonical_unit: "mm[Hg]",
    units: MMHG,
    plausible: (40.0, 300.0),
};
pub const DIASTOLIC: Measure = Measure {
    code: "8462-4",
    display: "Diastolic blood pressure",
    canonical_unit: "mm[Hg]",
    units: MMHG,
    plausible: (20.0, 200.0),
};
pub const MEAN_ARTERIAL: Measure = Measure {
    code: "8478-0",
    display: "Mean blood pressure",
    canonical_unit: "mm[Hg]",
    units: MMHG,
    plausible: (20.0, 250.0),
};
/// The time between two beats. Wider than the heart rate's range: one long pause or one early
/// beat among a measurement's intervals is what the device saw, not a misread.
pub const RR_INTERVAL: Measure = Measure {
    code: "147240",
    display: "R-R interval",
    canonical_unit: "ms",
    units: &[
        ("ms", Conversion::Factor(1.0)),
        ("s", Conversion::Factor(1_000.0)),
    ],
    plausible: (100.0, 10_000.0),
};
/// How many RR intervals one heart-rate measurement may carry: a Bluetooth notification of the
/// largest ATT MTU (512 bytes) holds fewer.
pub const MAX_RR_INTERVALS: usize = 256;
/// Pulse amplitude (perfusion) index of a pulse oximeter.
pub const PERFUSION_INDEX: Measure = Measure {
    code: "150488",
    display: "Perfusion index (pulse amplitude index)",
    canonical_unit: "%",
    units: PERCENT,
    plausible: (0.0, 100.0),
};

/// A value with no components beside it.
const fn scalar(measure: Measure) -> Kind {
    Kind::Scalar(measure, &[])
}

const CATALOGUE: &[Kind] = &[
    scalar(Measure {
        code: "8310-5",
        display: "Body temperature",
        canonical_unit: "Cel",
        units: &[
            ("Cel", Conversion::Factor(1.0)),
            ("[degF]", Conversion::FahrenheitToCelsius),
        ],
        plausible: (25.0, 45.0),
    }),
    Kind::Scalar(
        Measure {
            code: "8867-4",
            display: "Heart rate",
            canonical_unit: "/min",
            units: PER_MIN,
            plausible: (20.0, 300.0),
        },
        &[Part::optional(MDC, RR_INTERVAL, MAX_RR_INTERVALS)],
    ),
    scalar(Measure {
        code: "9279-1",
        display: "Respiratory rate",
        canonical_unit: "/min",
        units: PER_MIN,
        plausible: (2.0, 80.0),
    }),
    Kind::Scalar(
        Measure {
            code: "59408-5",
            display: "Oxygen saturation in arterial blood by pulse oximetry",
            canonical_unit: "%",
            units: PERCENT,
            plausible: (50.0, 100.0),
        },
        &[Part::optional(MDC, PERFUSION_INDEX, 1)],
    ),
    scalar(Measure {
        code: "2708-6",
        display: "Oxygen saturation in arterial blood",
        canonical_unit: "%",
        units: PERCENT,
        plausible: (50.0, 100.0),
    }),
    Kind::Panel {
        code: "85354-9",
        display: "Blood pressure panel",
        components: &[
            Part::required(SYSTOLIC),
            Part::required(DIASTOLIC),
            Part::optional(LOINC, MEAN_ARTERIAL, 1),
        ],
    },
    scalar(Measure {
        code: "29463-7",
        display: "Body weight",
        canonical_unit: "kg",
        units: &[
            ("kg", Conversion::Factor(1.0)),
            ("g", Conversion::Factor(0.001)),
            ("[lb_av]", Conversion::Factor(0.453_592_37)),
        ],
        plausible: (0.3, 500.0),
    }),
    scalar(Measure {
        code: "39156-5",
        display: "Body mass index (BMI) [Ratio]",
        canonical_unit: "kg/m2",
        units: &[("kg/m2", Conversion::Factor(1.0))],
        plausible: (5.0, 150.0),
    }),
    scalar(Measure {
        code: "8302-2",
        display: "Body height",
        canonical_unit: "cm",
        units: &[
            ("cm", Conversion::Factor(1.0)),
            ("m", Conversion::Factor(100.0)),
            ("[in_i]", Conversion::Factor(2.54)),
        ],
        plausible: (20.0, 280.0),
    }),
    scalar(Measure {
        code: "2339-0",
        display: "Glucose [Mass/volume] in Blood",
        canonical_unit: "mg/dL",
        units: GLUCOSE_MASS,
        plausible: (10.0, 1000.0),
    }),
    scalar(Measure {
        code: "15074-8",
        display: "Glucose [Moles/volume] in Blood",
        canonical_unit: "mmol/L",
        units: &[
            ("mmol/L", Conversion::Factor(1.0)),
            ("mg/dL", Conversion::Factor(1.0 / GLUCOSE_MG_DL_PER_MMOL_L)),
        ],
        plausible: (0.5, 55.0),
    }),
    scalar(Measure {
        code: "99504-3",
        display: "Glucose [Mass/volume] in Interstitial fluid (CGM)",
        canonical_unit: "mg/dL",
        units: GLUCOSE_MASS,
        plausible: (20.0, 600.0),
    }),
    Kind::Event {
        code: "fall-detected",
        display: "Fall detected",
    },
    Kind::Event {
        code: "pump-occlusion",
        display: "Infusion pump occlusion",
    },
    Kind::Event {
        code: "ventilator-disconnect",
        display: "Ventilator disconnected",
    },
    // Inputs of NEWS2 that are not vital signs of their own: oxygen given, and ACVPU.
    scalar(Measure {
        code: "3151-8",
        display: "Inhaled oxygen flow rate",
        canonical_unit: "L/min",
        units: &[("L/min", Conversion::Factor(1.0))],
        plausible: (0.0, 70.0),
    }),
    Kind::Event {
        code: "consciousness-alert",
        display: "ACVPU: alert",
    },
    Kind::Event {
        code: "consciousness-new-confusion",
        display: "ACVPU: new confusion",
    },
    Kind::Event {
        code: "consciousness-voice",
        display: "ACVPU: responds to voice",
    },
    Kind::Event {
        code: "consciousness-pain",
        display: "ACVPU: responds to pain",
    },
    Kind::Event {
        code: "consciousness-unresponsive",
        display: "ACVPU: unresponsive",
    },
];

/// The measure of a code, whether it is measured on its own or as a component (systolic 8480-6
/// of the blood-pressure panel, an RR interval of a heart rate).
pub fn measure(code: &str) -> Option<Measure> {
    CATALOGUE.iter().find_map(|kind| match kind {
        Kind::Scalar(measure, _) if measure.code == code => Some(*measure),
        Kind::Scalar(_, parts)
        | Kind::Panel {
            components: parts, ..
        } => parts
            .iter()
            .find(|p| p.measure.code == code)
            .map(|p| p.measure),
        Kind::Event { .. } => None,
    })
}

/// The components a reading of `system`/`code` may carry: a panel's, or those beside a value.
pub fn parts(system: &str, code: &str) -> &'static [Part] {
    match lookup(system, code) {
        Some(
            Kind::Scalar(_, parts)
            | Kind::Panel {
                components: parts, ..
            },
        ) => parts,
        _ => &[],
    }
}

/// Whether `code` is a Sentinel event (a fall, a pump occlusion).
pub fn is_event(code: &str) -> bool {
    matches!(lookup(EVENTS, code), Some(Kind::Event { .. }))
}

/// What `system`/`code` stands for, if Sentinel knows it.
pub fn lookup(system: &str, code: &str) -> Option<Kind> {
    CATALOGUE.iter().copied().find(|kind| match kind {
        Kind::Scalar(measure, _) => system == LOINC && measure.code == code,
        Kind::Panel { code: c, .. } => system == LOINC && *c == code,
        Kind::Event { code: c, .. } => system == EVENTS && *c == code,
    })
}

/// Every code, for documentation and error messages.
pub fn codes() -> impl Iterator<Item = &'static str> {
    CATALOGUE.iter().map(|kind| match kind {
        Kind::Scalar(measure, _) => measure.code,
        Kind::Panel { code, .. } | Kind::Event { code, .. } => code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(code: &str) -> Measure {
        match lookup(LOINC, code) {
            Some(Kind::Scalar(measure, _)) => measure,
            other => panic!("{code}: {other:?}"),
        }
    }

    #[test]
    fn conversions_reach_the_canonical_unit() {
        let temperature = measure("8310-5");
        let to_celsius = temperature.conversion("[degF]").unwrap().apply(98.6);
        assert!((to_celsius - 37.0).abs() < 1e-9);
        let glucose = measure("2339-0");
        let mg_dl = glucose.conversion("mmol/L").unwrap().apply(5.5);
        assert!((mg_dl - 99.0858).abs() < 1e-4, "{mg_dl}");
        let weight = measure("29463-7");
        assert!((weight.conversion("[lb_av]").unwrap().apply(220.462_262) - 100.0).abs() < 1e-4);
        assert!((SYSTOLIC.conversion("kPa").unwrap().apply(16.0) - 120.01).abs() < 0.01);
        assert_eq!(glucose.conversion("g/L"), None);
    }

    #[test]
    fn every_code_is_found_in_its_own_system_only() {
        for code in codes() {
            let in_loinc = lookup(LOINC, code).is_some();
            let in_events = lookup(EVENTS, code).is_some();
            assert!(in_loinc ^ in_events, "{code}");
        }
        assert_eq!(lookup(LOINC, "0000-0"), None);
    }
}
