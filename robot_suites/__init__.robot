*** Settings ***
Documentation       Certification checklist for an OCPP 1.6J charge station.
...                 The lab config in ${LAB} says which bench: by default the virtual bench,
...                 which starts a virtual station and virtual instruments in their own process.
...                 Run another bench with: robot --variable LAB:lab_configs/my-bench.yaml robot_suites/
Library             hil.robot.HilLab
Suite Setup         Open Lab    ${LAB}
Suite Teardown      Close Lab

*** Variables ***
${LAB}              ${CURDIR}/../lab_configs/virtual.yaml
