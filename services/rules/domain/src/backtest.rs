//! Backtest: a rule version run over stored readings exactly as live evaluation runs it (the
//! same engine, in log order), collecting the alerts it would have raised — with the same
//! one-open-alert-per-patient and clearing behaviour — while raising none.

use std::collections::{BTreeMap, HashMap};

use super::engine::{ActiveRule, Effect, Engine, Observed};

#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedAlert {
    pub patient: String,
    /// Observation time of the reading that raised it, µs.
    pub raised_at: i64,
    pub resolved_at: Option<i64>,
    pub readings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    pub alerts: Vec<SimulatedAlert>,
    /// (patient, UTC day as days since the epoch) → alerts raised that day.
    pub per_day: BTreeMap<(String, i64), u32>,
    pub readings_evaluated: u64,
}

const DAY: i64 = 86_400_000_000;

pub fn simulate(rule: &ActiveRule, readings: &[Observed]) -> Report {
    let mut engine = Engine::new(vec![rule.clone()]);
    let mut report = Report::default();
    let mut open: HashMap<String, usize> = HashMap::new();
    for reading in readings {
        report.readings_evaluated += 1;
        for effect in engine.evaluate(reading) {
            match effect {
                Effect::Raise {
                    patient, readings, ..
                } => match open.get(&patient) {
                    Some(&i) => {
                        let alert = &mut report.alerts[i];
                        for r in readings {
                            if !alert.readings.contains(&r) {
                                alert.readings.push(r);
                            }
                        }
                    }
                    None => {
                        *report
                            .per_day
                            .entry((patient.clone(), reading.observed_at.div_euclid(DAY)))
                            .or_default() += 1;
                        open.insert(patient.clone(), report.alerts.len());
                        report.alerts.push(SimulatedAlert {
                            patient,
                            raised_at: reading.observed_at,
                            resolved_at: None,
                            readings,
                        });
                    }
                },
                Effect::Clear { patient, .. } => {
                    if !rule.definition.latching
                        && let Some(i) = open.remove(&patient)
                    {
                        report.alerts[i].resolved_at = Some(reading.observed_at);
                    }
                }
                Effect::Suppressed { .. } => {}
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::builtin;

    fn rule(name: &str) -> ActiveRule {
        let definition = builtin()
            .unwrap()
            .into_iter()
            .find(|r| r.name == name)
            .unwrap();
        ActiveRule {
            rule_id: format!("rule-{name}"),
            version: 1,
            definition,
        }
    }

    fn glucose(id: &str, patient: &str, hour: i64, value: f64) -> Observed {
        Observed {
            reading_id: id.into(),
            patient: Some(patient.into()),
            device_id: "d".into(),
            observed_at: hour * 3_600_000_000,
            code: "2339-0".into(),
            value: Some(value),
            components: Vec::new(),
            device: None,
        }
    }

    #[test]
    fn counts_alerts_per_patient_per_day_without_flapping() {
        let readings = [
            glucose("a1", "pt-a", 1, 65.0),
            glucose("a2", "pt-a", 2, 66.0),
            glucose("a3", "pt-a", 3, 75.0), // over the trigger, under the clearing level
            glucose("a4", "pt-a", 4, 90.0), // cleared
            glucose("a5", "pt-a", 30, 60.0), // the next day
            glucose("b1", "pt-b", 5, 100.0),
        ];
        let report = simulate(&rule("hypoglycaemia-level-1"), &readings);
        assert_eq!(report.readings_evaluated, 6);
        assert_eq!(report.alerts.len(), 2);
        assert_eq!(report.alerts[0].readings, ["a1", "a2"]);
        assert_eq!(report.alerts[0].resolved_at, Some(4 * 3_600_000_000));
        assert_eq!(report.per_day.get(&("pt-a".to_owned(), 0)), Some(&1));
        assert_eq!(report.per_day.get(&("pt-a".to_owned(), 1)), Some(&1));
        assert!(!report.per_day.keys().any(|(p, _)| p == "pt-b"));
    }
}
