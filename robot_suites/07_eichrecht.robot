*** Settings ***
Documentation       Eichrecht (step EI1): the station's meter signs the begin and end readings of a
...                 session in OCMF; they verify with the meter's public key and agree with
...                 meterStart, meterStop and the lab's reference (energy meter, else the
...                 analyser); on a DC station also with what its DC meter itself holds.
Library             hil.robot.HilLab
Test Tags           profile:Eichrecht

*** Test Cases ***
Signed Meter Values Verify And Match The Reference Meter
    [Documentation]    A complete session; its signed readings (a begin and an end reading:
    ...    MeterValues Transaction.Begin and StopTransaction transactionData Transaction.End,
    ...    or one record with both) verify with the key from the lab config, the DC meter or
    ...    MeterPublicKey[<connector>]: both signatures, one begin and one end, same serial,
    ...    consecutive pagination, the id tag, meter status G, RT the station's current type,
    ...    begin = meterStart, end = meterStop, signed energy = reference within tolerance; on
    ...    DC the record is the DC meter's own, with its registers. N/A when the DUT does not
    ...    sign its meter values.
    [Tags]    step:EI1    requires:signed_meter_values    requires:ev    requires:identification
    ...       requires:power_source
    ${session}=    Run Charging Session
    Signed Meter Values Should Verify    ${session}
