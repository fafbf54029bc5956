*** Settings ***
Documentation       Eichrecht (step EI1): the station's meter signs the begin and end readings of a
...                 session in OCMF; they verify with the meter's public key and agree with
...                 meterStart, meterStop and the lab's reference meter.
Library             hil.robot.HilLab
Test Tags           profile:Eichrecht

*** Test Cases ***
Signed Meter Values Verify And Match The Reference Meter
    [Documentation]    A complete session; its signed readings (MeterValues Transaction.Begin,
    ...    StopTransaction transactionData Transaction.End) verify with the key from the lab
    ...    config or MeterPublicKey[<connector>]: both signatures, one begin and one end, same
    ...    serial, consecutive pagination, the id tag, meter status G, begin = meterStart,
    ...    end = meterStop, signed energy = reference meter within tolerance. N/A when the DUT
    ...    does not sign its meter values.
    [Tags]    step:EI1    requires:signed_meter_values    requires:ev    requires:identification
    ...       requires:power_source
    ${session}=    Run Charging Session
    Signed Meter Values Should Verify    ${session}
