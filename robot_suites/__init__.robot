*** Settings ***
Documentation       Certification checklist for an OCPP charge station (1.6J; 2.0.1 as far as
...                 the lab checks it, the rest N/A saying so): dut.ocpp in the lab config.
...                 The lab config in ${LAB} says which bench: by default the virtual bench,
...                 which starts a virtual station and virtual instruments in their own process.
...                 Run another bench with: robot --variable LAB:lab_configs/my-bench.yaml robot_suites/
...
...                 Every step starts the same way: first it is decided whether the step applies
...                 (the DUT capabilities and instruments its requires: tags name; otherwise N/A),
...                 then the bench must be at rest. Every step ends the same way, pass or fail:
...                 whatever it changed on the station and the bench is put back.
Library             hil.robot.HilLab
Suite Setup         Open Lab    ${LAB}
Suite Teardown      Close Lab
Test Setup          Prepare Step
Test Teardown       Return Bench To Idle

*** Variables ***
${LAB}              ${CURDIR}/../lab_configs/virtual.yaml
